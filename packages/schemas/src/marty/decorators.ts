import { ConfigurationError } from '@switchyard/core'
import type { Attributes, JsonObject } from '../parts.generated.js'
import { type AuditEventType, martyCatalog } from './catalog.js'
import type { EventPublisher, MartyPublishOptions } from './publisher.js'

/** What selectors see of a decorated call: the instance, the arguments and the awaited result. */
export interface MethodCall<
  This = unknown,
  Args extends readonly unknown[] = readonly unknown[],
  R = unknown,
> {
  readonly self: This
  readonly args: Args
  readonly result: R
}

/** Picks a value from a call, e.g. `({ args }) => args[0]` or `({ result }) => result.id`. */
export type Selector<C extends MethodCall, V> = (call: C) => V

interface CommonOptions<C extends MethodCall> {
  /** The publisher to use. @default `this.eventPublisher` of the instance */
  publisher?: (self: C['self']) => EventPublisher
  /** Envelope attributes (correlation id, tenant, user) of the published event. */
  metadata?: Selector<C, MartyPublishOptions>
}

/** Options of `@auditEvent`. */
export interface AuditEventOptions<C extends MethodCall = MethodCall> extends CommonOptions<C> {
  /** Audit type, e.g. `AuditEventType.DATA_CREATED`. */
  eventType: AuditEventType
  /** What was done, e.g. `create_user`. */
  action: string
  /** Kind of resource, e.g. `user`. */
  resourceType: string
  /** Id of the resource, from the arguments or the result. */
  resourceId?: Selector<C, string>
  /** Extra audit details. */
  details?: Selector<C, Attributes>
}

/** Options of `@domainEvent`. */
export interface DomainEventOptions<C extends MethodCall = MethodCall> extends CommonOptions<C> {
  /** Aggregate, e.g. `user`. */
  aggregateType: string
  /** Event name, e.g. `user_created`. */
  eventType: string
  /** Id of the aggregate, from the arguments or the result. */
  aggregateId: Selector<C, string>
  /** The event data. @default the result when it is a plain object, else `{}` */
  eventData?: Selector<C, JsonObject>
  /** Aggregate version after the change. */
  aggregateVersion?: Selector<C, number>
}

/** The method decorator the factories return (TypeScript 5 standard decorators). */
export type AsyncMethodDecorator = <This, Args extends unknown[], R>(
  target: (this: This, ...args: Args) => Promise<R>,
  context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Promise<R>>,
) => (this: This, ...args: Args) => Promise<R>

/**
 * Publishes an audit event after the decorated async method succeeds; publishes nothing when it
 * throws. A failed publish rejects the call: the change happened but its audit record did not.
 * @throws {ConfigurationError} at decoration for an unknown audit type, at call time when no
 * publisher is found (before the method runs).
 * @example
 * class Users {
 *   constructor(readonly eventPublisher: EventPublisher) {}
 *   \@auditEvent({ eventType: AuditEventType.DATA_CREATED, action: 'create_user', resourceType: 'user',
 *     resourceId: ({ args }) => String(args[0]) })
 *   async createUser(id: string, data: NewUser) { ... }
 * }
 */
export function auditEvent<C extends MethodCall = MethodCall>(
  options: AuditEventOptions<C>,
): AsyncMethodDecorator {
  if (!martyCatalog.events.some((e) => e.type === options?.eventType)) {
    throw new ConfigurationError(
      `@auditEvent: unknown audit type ${JSON.stringify(options?.eventType)}`,
      {
        field: 'eventType',
      },
    )
  }
  return after<C>('auditEvent', options, (publisher, call) => {
    const data: Record<string, unknown> = {
      action: options.action,
      resource_type: options.resourceType,
      outcome: 'success',
    }
    if (options.resourceId !== undefined) data.resource_id = options.resourceId(call)
    if (options.details !== undefined) data.details = options.details(call)
    return publisher.publishAuditEvent(options.eventType, data as never, options.metadata?.(call))
  })
}

/**
 * Publishes a domain event after the decorated async method succeeds; publishes nothing when it
 * throws. The topic is `{prefix}.{service}.{aggregateType}.{eventType}`.
 * @throws {ConfigurationError} at call time when no publisher is found (before the method runs).
 * @example
 * \@domainEvent({ aggregateType: 'user', eventType: 'user_created', aggregateId: ({ args }) => String(args[0]) })
 * async createUser(id: string, data: NewUser) { ... }
 */
export function domainEvent<C extends MethodCall = MethodCall>(
  options: DomainEventOptions<C>,
): AsyncMethodDecorator {
  if (typeof options?.aggregateId !== 'function') {
    throw new ConfigurationError('@domainEvent needs an aggregateId selector', {
      field: 'aggregateId',
    })
  }
  return after<C>('domainEvent', options, (publisher, call) => {
    const result = call.result as unknown
    const plain =
      result !== null &&
      typeof result === 'object' &&
      Object.getPrototypeOf(result) === Object.prototype
    const data = {
      aggregate_type: options.aggregateType,
      aggregate_id: options.aggregateId(call),
      event_type: options.eventType,
      event_data: options.eventData?.(call) ?? (plain ? (result as JsonObject) : {}),
      ...(options.aggregateVersion === undefined
        ? {}
        : { aggregate_version: options.aggregateVersion(call) }),
    }
    return publisher.publishDomainEvent(data, options.metadata?.(call))
  })
}

function after<C extends MethodCall>(
  name: string,
  options: CommonOptions<C>,
  publish: (publisher: EventPublisher, call: C) => Promise<unknown>,
): AsyncMethodDecorator {
  return (target, context) => {
    if (context.kind !== 'method') throw new ConfigurationError(`@${name} decorates methods only`)
    const method = String(context.name)
    return async function (this, ...args) {
      const publisher =
        options.publisher?.(this as C['self']) ??
        (this as { eventPublisher?: EventPublisher }).eventPublisher
      if (publisher === undefined || typeof publisher.publishDomainEvent !== 'function') {
        throw new ConfigurationError(
          `@${name} on ${method}: no EventPublisher; set this.eventPublisher or pass { publisher }`,
          { field: 'publisher' },
        )
      }
      const result = await target.apply(this, args)
      await publish(publisher, { self: this, args, result } as unknown as C)
      return result
    }
  }
}
