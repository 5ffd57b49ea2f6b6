import type { EventBus, EventEnvelope } from '@switchyard/core'
import { checkKeys } from '@switchyard/core/transport'
import type { EventDefinition } from '../catalog.js'
import {
  ANUMATE_SERVICES,
  type AnumateEventType,
  type AnumateService,
  anumateCatalog,
  createAnumateEvent,
  type EventContext,
} from './catalog.js'
import type { AnumateEventMap } from './types.generated.js'

/** `capsuleCreated` from `com.anumate.capsule.created`. */
export type MethodName<T extends string> = T extends `com.anumate.${infer A}.${infer E}`
  ? `${A}${Capitalize<E>}`
  : never

/** The publisher of one service: a method per event type of its aggregate. */
export type ServicePublisher<S extends AnumateService> = {
  readonly [T in Extract<
    AnumateEventType,
    `com.anumate.${(typeof ANUMATE_SERVICES)[S]}.${string}`
  > as MethodName<T>]: (
    data: AnumateEventMap[T],
    context?: EventContext,
  ) => Promise<EventEnvelope<AnumateEventMap[T]>>
}

/** One publisher per Anumate service (Anumate's `EventPublisherFactory`). */
export type AnumatePublishers = { readonly [S in AnumateService]: ServicePublisher<S> }

/** Options of `createAnumatePublishers`. */
export interface AnumatePublisherOptions {
  /** Topic of each event. @default the catalog topic (`anumate.capsules`, `anumate.policies`, ...) */
  topicFor?: (definition: EventDefinition) => string
}

/**
 * Creates the service publishers; each method validates the data, builds the CloudEvent with
 * the context and publishes it on the bus.
 * @throws {ConfigurationError} for unknown options.
 * @example
 * const { registry } = createAnumatePublishers(bus)
 * await registry.capsuleCreated(
 *   { capsule_id: 'cap-789', name: 'terraform-aws', version: '2.0.0', author: 'user@anumate.com' },
 *   { tenantId: 'tenant-123', correlationId: 'req-456' },
 * )
 */
export function createAnumatePublishers(
  bus: EventBus,
  options: AnumatePublisherOptions = {},
): AnumatePublishers {
  checkKeys(options, ['topicFor'], 'createAnumatePublishers')
  const topicFor = options.topicFor ?? ((def: EventDefinition) => def.topic)
  const publishers: Record<string, Record<string, unknown>> = {}
  for (const service of Object.keys(ANUMATE_SERVICES) as AnumateService[]) {
    const methods: Record<string, unknown> = {}
    for (const def of anumateCatalog.events) {
      const [, , aggregate, event] = def.type.split('.')
      if (aggregate !== ANUMATE_SERVICES[service] || event === undefined) continue
      const type = def.type as AnumateEventType
      // async: a validation error rejects the returned promise instead of throwing at the call.
      methods[`${aggregate}${event[0]!.toUpperCase()}${event.slice(1)}`] = async (
        data: never,
        context?: EventContext,
      ) => bus.publish(topicFor(def), createAnumateEvent(type, data, context))
    }
    publishers[service] = Object.freeze(methods)
  }
  return Object.freeze(publishers) as unknown as AnumatePublishers
}
