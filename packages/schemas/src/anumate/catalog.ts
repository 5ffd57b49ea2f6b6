import type { EventEnvelope } from '@switchyard/core'
import { defineCatalog } from '../catalog.js'
import { buildEvent, definitionOf, type EnvelopeOptions, typeConstants } from '../factory.js'
import { createSchemaRegistry, type SchemaRegistry } from '../registry.js'
import * as approvals from './schemas-approvals.js'
import * as orchestrator from './schemas-orchestrator.js'
import * as policy from './schemas-policy.js'
import * as registry from './schemas-registry.js'
import type { AnumateEventMap } from './types.generated.js'

/** Every Anumate event type (the `com.anumate.*` CloudEvents types). */
export type AnumateEventType = keyof AnumateEventMap

/** The Anumate catalog: capsule registry, policy, orchestrator (executions) and approvals. */
export const anumateCatalog = defineCatalog<AnumateEventMap>({
  name: 'anumate',
  title: 'Anumate platform events',
  version: '1.0.0',
  description: 'CloudEvents of the Anumate services: registry, policy, orchestrator and approvals.',
  // Listed, not Object.values(module): namespace key order differs between Node and bundlers.
  specs: [
    registry.capsuleCreated,
    registry.capsuleUpdated,
    registry.capsuleDeleted,
    registry.capsulePublished,
    policy.policyCreated,
    policy.policyUpdated,
    policy.policyViolated,
    policy.policyEnforced,
    orchestrator.executionStarted,
    orchestrator.executionCompleted,
    orchestrator.executionFailed,
    orchestrator.executionPaused,
    orchestrator.executionResumed,
    approvals.approvalRequested,
    approvals.approvalGranted,
    approvals.approvalRejected,
  ],
})

/** Anumate's `EventType`: `AnumateEventType.CAPSULE_CREATED === 'com.anumate.capsule.created'`. */
export const AnumateEventType = typeConstants<AnumateEventType, 'com.anumate.'>(
  anumateCatalog,
  'com.anumate.',
)

/** The Anumate services and the aggregate whose events each one publishes. */
export const ANUMATE_SERVICES = {
  registry: 'capsule',
  policy: 'policy',
  orchestrator: 'execution',
  approvals: 'approval',
} as const

/** Name of an Anumate service. */
export type AnumateService = keyof typeof ANUMATE_SERVICES

/** Base of the CloudEvents `source` of each service: `https://anumate.com/services/<service>`. */
export const ANUMATE_SOURCE_BASE = 'https://anumate.com/services'

/**
 * Request context carried by every Anumate event (Anumate's `EventContext`); each field maps to
 * an envelope attribute.
 */
export interface EventContext {
  /** Tenant, as `tenantid`. */
  tenantId?: string
  /** Request or flow id, as `correlationid`. */
  correlationId?: string
  /** Id of the event that caused this one, as `causationid`. */
  causationId?: string
  /** Acting user, as extension `userid`. */
  userId?: string
  /** W3C trace context, as `traceparent`. */
  traceparent?: string
}

let shared: SchemaRegistry<AnumateEventMap> | undefined

/** The shared registry holding the Anumate catalog. */
export function getSchemaRegistry(): SchemaRegistry<AnumateEventMap> {
  shared ??= createSchemaRegistry().use(anumateCatalog)
  return shared
}

/** The service that publishes a type: `com.anumate.capsule.created` → `registry`. */
export function serviceOf(type: string): AnumateService | undefined {
  const aggregate = type.split('.')[2]
  return (Object.keys(ANUMATE_SERVICES) as AnumateService[]).find(
    (s) => ANUMATE_SERVICES[s] === aggregate,
  )
}

/** Reads the context back out of an envelope. */
export function contextOf(event: EventEnvelope): EventContext {
  const context: EventContext = {}
  if (event.tenantid !== undefined) context.tenantId = event.tenantid
  if (event.correlationid !== undefined) context.correlationId = event.correlationid
  if (event.causationid !== undefined) context.causationId = event.causationid
  if (event.extensions?.userid !== undefined) context.userId = event.extensions.userid
  if (event.traceparent !== undefined) context.traceparent = event.traceparent
  return context
}

/**
 * Builds an Anumate CloudEvent after validating its data; `source` defaults to the publishing
 * service's URL.
 * @throws {SchemaValidationError} when the data does not match the schema of `type`.
 * @example createAnumateEvent('com.anumate.capsule.created', { capsule_id: 'cap-1', name: 'tf', version: '1.0.0' })
 */
export function createAnumateEvent<T extends AnumateEventType>(
  type: T,
  data: AnumateEventMap[T],
  context: EventContext = {},
  options: Omit<EnvelopeOptions, keyof EventContext> = {},
): EventEnvelope<AnumateEventMap[T]> {
  const { userId, ...attributes } = context
  const extensions =
    userId === undefined ? options.extensions : { ...options.extensions, userid: userId }
  return buildEvent(getSchemaRegistry(), definitionOf(anumateCatalog, type), data, {
    source: `${ANUMATE_SOURCE_BASE}/${serviceOf(type) ?? 'unknown'}`,
    ...options,
    ...attributes,
    ...(extensions === undefined ? {} : { extensions }),
  })
}
