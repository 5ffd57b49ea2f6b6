import {
  ConfigurationError,
  type EventBus,
  type EventEnvelope,
  type HandleContext,
  type SubscribeOptions,
  type Subscription,
} from '@switchyard/core'
import type { EventDefinition } from '../catalog.js'
import { definitionOf } from '../factory.js'
import {
  ANUMATE_SERVICES,
  type AnumateEventType,
  type AnumateService,
  anumateCatalog,
  contextOf,
  type EventContext,
  getSchemaRegistry,
} from './catalog.js'
import type { AnumateEventMap } from './types.generated.js'

/** Handles one Anumate event; the data is already validated against its schema. */
export type AnumateHandler<T extends AnumateEventType> = (
  event: EventEnvelope<AnumateEventMap[T]>,
  context: EventContext,
  ctx: HandleContext,
) => unknown

/** Handlers by event type; the subscriber listens to exactly these types. */
export type AnumateHandlers = { [T in AnumateEventType]?: AnumateHandler<T> }

/** Options of one service subscriber: the bus's subscribe options plus topic mapping. */
export interface AnumateSubscriberOptions extends Omit<SubscribeOptions, 'types'> {
  /** Topic of each event. @default the catalog topic */
  topicFor?: (definition: EventDefinition) => string
}

/** A service's subscriptions, started together and closed together. */
export interface AnumateSubscriber extends AsyncDisposable {
  /** The service, e.g. `policy`; the default consumer group is `<service>-service`. */
  readonly service: AnumateService
  /** Event types handled. */
  readonly types: readonly AnumateEventType[]
  /** Subscribes on every topic the handled types are published to. Safe to call twice. */
  start(): Promise<void>
  /** Drains and closes every subscription. */
  close(): Promise<void>
}

/** One subscriber factory per Anumate service (Anumate's `EventSubscriberFactory`). */
export type AnumateSubscribers = {
  readonly [S in AnumateService]: (
    handlers: AnumateHandlers,
    options?: AnumateSubscriberOptions,
  ) => AnumateSubscriber
}

/**
 * Creates the service subscriber factories. Invalid data is dead-lettered before the handler
 * runs (a `SchemaValidationError` is not retried).
 * @example
 * const policy = createAnumateSubscribers(bus).policy({
 *   'com.anumate.capsule.published': async (event, context) => evaluate(event.data, context.tenantId),
 * })
 * await policy.start()
 */
export function createAnumateSubscribers(bus: EventBus): AnumateSubscribers {
  const factories: Record<string, unknown> = {}
  for (const service of Object.keys(ANUMATE_SERVICES) as AnumateService[]) {
    factories[service] = (handlers: AnumateHandlers, options: AnumateSubscriberOptions = {}) =>
      subscriber(bus, service, handlers, options)
  }
  return Object.freeze(factories) as AnumateSubscribers
}

function subscriber(
  bus: EventBus,
  service: AnumateService,
  handlers: AnumateHandlers,
  options: AnumateSubscriberOptions,
): AnumateSubscriber {
  const { topicFor = (def: EventDefinition) => def.topic, ...subscribeOptions } = options
  const types = Object.keys(handlers) as AnumateEventType[]
  if (types.length === 0)
    throw new ConfigurationError(`The ${service} subscriber needs at least one handler`)
  const byTopic = new Map<string, AnumateEventType[]>()
  for (const type of types) {
    if (typeof handlers[type] !== 'function') {
      throw new ConfigurationError(`The handler for "${type}" must be a function`, { field: type })
    }
    const topic = topicFor(definitionOf(anumateCatalog, type))
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), type])
  }
  const registry = getSchemaRegistry()
  const dispatch = async (event: EventEnvelope, ctx: HandleContext) => {
    const type = event.type as AnumateEventType
    const handler = handlers[type] as AnumateHandler<AnumateEventType> | undefined
    if (handler === undefined) return
    const data = registry.validate(type, event.data, { dataschema: event.dataschema })
    return handler({ ...event, data } as EventEnvelope<never>, contextOf(event), ctx)
  }
  let started: Promise<Subscription[]> | undefined
  const close = async () => {
    const subscriptions = await (started?.catch(() => []) ?? [])
    await Promise.all(subscriptions.map((s) => s.close()))
  }
  return {
    service,
    types,
    start: async () => {
      started ??= Promise.all(
        [...byTopic].map(([topic, topicTypes]) =>
          bus.subscribe(topic, dispatch, {
            group: `${service}-service`,
            ...subscribeOptions,
            types: topicTypes,
          }),
        ),
      )
      await started
    },
    close,
    [Symbol.asyncDispose]: close,
  }
}
