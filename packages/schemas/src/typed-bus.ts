import {
  ConfigurationError,
  type EventBus,
  type EventEnvelope,
  type EventInput,
  type HandleContext,
  type SubscribeOptions,
  type Subscription,
  type Subscriptions,
} from '@switchyard/core'
import type { Catalog } from './catalog.js'
import type { TypesMatching } from './type-glob.js'

/** The event types of an event map `M` (a catalog's `EventMapOf`). */
export type CatalogType<M> = keyof M & string

/**
 * An envelope of one of the types `K` of event map `M`, with `type` and `data` tied together and
 * `data` present. A union over `K`, so checking `event.type` narrows `event.data`.
 */
export type CatalogEvent<M, K extends CatalogType<M> = CatalogType<M>> = K extends unknown
  ? EventEnvelope<M[K]> & { type: K; data: M[K] }
  : never

/** What `typed.publish` takes for type `K`: the bus's `EventInput` with `type` and `data` tied. */
export type CatalogInput<M, K extends CatalogType<M> = CatalogType<M>> = K extends unknown
  ? Omit<EventInput<M[K]>, 'type' | 'data'> & { type: K; data: M[K] }
  : never

/** A handler of catalog events `E` (a `CatalogEvent`). */
export type CatalogHandler<E> = (event: E, ctx: HandleContext) => unknown

/** The catalog types a route key (an exact type or a glob) can receive. */
export type RouteTypes<M, P extends string> = TypesMatching<CatalogType<M>, P>

/**
 * Handlers by type or glob for `typed.subscribe`, as for `bus.subscribe`: each handler receives
 * the union of the catalog events its key matches (`leave.*` gets `leave.created | leave.approved
 * | leave.rejected`), `default` any catalog event. A handler is typed by its own key alone (the
 * compiler types it before it sees the other keys), so a glob's handler also lists the types an
 * exact route takes first at run time. A key that matches no catalog type is a compile error,
 * shown as the type `<key>: no event type of the catalog matches this route`.
 */
export type CatalogRoutes<M, R> = {
  [P in keyof R]: P extends 'default'
    ? CatalogHandler<CatalogEvent<M>>
    : P extends string
      ? [RouteTypes<M, P>] extends [never]
        ? `${P}: no event type of the catalog matches this route`
        : CatalogHandler<CatalogEvent<M, RouteTypes<M, P>>>
      : never
}

/** What `subscribe` resolves with: one `Subscription` per topic, `Subscriptions` for a list. */
export type SubscriptionOf<T> = T extends string ? Subscription : Subscriptions

/**
 * The bus seen through a catalog: `publish`, `publishBatch` and `subscribe` type-check event
 * types and data against the catalog; everything else is the bus's own.
 */
export interface TypedBus<M> extends Omit<EventBus, 'publish' | 'publishBatch' | 'subscribe'> {
  /**
   * `bus.publish`, with `type` one of the catalog's and `data` that type's data.
   * @throws {SchemaValidationError} at run time from a `validationMiddleware`, as for the bus.
   */
  publish<const K extends CatalogType<M>>(
    topic: string,
    input: CatalogInput<M, K>,
  ): Promise<CatalogEvent<M, K>>
  /**
   * `bus.publishBatch`, each event checked against its own type's data; resolves with the
   * envelopes, each typed by its input's type.
   */
  publishBatch<const K extends readonly CatalogType<M>[]>(
    topic: string,
    inputs: { readonly [I in keyof K]: CatalogInput<M, K[I]> },
  ): Promise<{ -readonly [I in keyof K]: CatalogEvent<M, K[I]> }>
  /**
   * `bus.subscribe` with one handler of every catalog event (check `event.type` to narrow), to
   * one topic (resolves with a `Subscription`) or several (one each, `Subscriptions`).
   */
  subscribe<const T extends string | readonly string[]>(
    topic: T,
    handler: CatalogHandler<CatalogEvent<M>>,
    options?: SubscribeOptions,
  ): Promise<SubscriptionOf<T>>
  /** `bus.subscribe` with routes by type or glob, each handler typed by what its key matches. */
  subscribe<const T extends string | readonly string[], const R extends object>(
    topic: T,
    routes: CatalogRoutes<M, R>,
    options?: SubscribeOptions,
  ): Promise<SubscriptionOf<T>>
}

/**
 * A typed view of a bus for a catalog. It is the bus itself, typed: no wrapper runs at publish
 * or delivery. Types are checked at compile time only; run-time validation stays the bus's
 * `validationMiddleware` over a registry holding the catalog (with `unknownTypes: 'reject'` on
 * consume, handlers see nothing the catalog does not define).
 * @throws {ConfigurationError} when `bus` is not a bus or `catalog` not a catalog.
 * @example
 * const registry = createSchemaRegistry().use(oliveCatalog)
 * const bus = createEventBus({ transport, middleware: [validationMiddleware(registry)] })
 * const olive = typedBus(bus, oliveCatalog)
 * await olive.subscribe('employees.events', { 'employee.created': (e) => hire(e.data.email) })
 * await olive.publish('employees.events', { type: 'employee.created', data: { employee_id: 'e1', ... } })
 */
export function typedBus<M extends object>(bus: EventBus, catalog: Catalog<M>): TypedBus<M> {
  const candidate = bus as Partial<EventBus> | null
  if (
    typeof candidate?.publish !== 'function' ||
    typeof candidate.publishBatch !== 'function' ||
    typeof candidate.subscribe !== 'function'
  ) {
    throw new ConfigurationError('typedBus needs an EventBus (from createEventBus)', {
      field: 'bus',
    })
  }
  if (typeof catalog?.name !== 'string' || !Array.isArray(catalog.events)) {
    throw new ConfigurationError(
      'typedBus needs a catalog (from defineCatalog or a seed catalog)',
      {
        field: 'catalog',
      },
    )
  }
  // The bus's methods accept every envelope; the view only narrows what the compiler allows.
  return bus as unknown as TypedBus<M>
}
