import type { EventEnvelope } from '@switchyard/core'
import { defineCatalog } from '../catalog.js'
import { buildEvent, definitionOf, type EnvelopeOptions, typeConstants } from '../factory.js'
import {
  createSchemaRegistry,
  type ReadonlySchemaRegistry,
  type SchemaRegistry,
} from '../registry.js'
import * as audit from './schemas-audit.js'
import * as domain from './schemas-domain.js'
import * as notification from './schemas-notification.js'
import type { MartyEventMap } from './types.generated.js'

/** The Marty catalog: audit events, notification events and the domain event shape. */
export const martyCatalog = defineCatalog<MartyEventMap>({
  name: 'marty',
  title: 'Marty microservices events',
  version: '1.0.0',
  description: 'Audit, notification and domain events of the Marty microservices framework.',
  // Listed, not Object.values(module): namespace key order differs between Node and bundlers.
  specs: [
    audit.dataCreated,
    audit.dataUpdated,
    audit.dataDeleted,
    audit.userLogin,
    audit.userLogout,
    audit.permissionDenied,
    audit.certificateIssued,
    audit.certificateRevoked,
    audit.serviceStarted,
    audit.serviceError,
    notification.userWelcome,
    notification.userPasswordReset,
    notification.certificateExpiring,
    notification.certificateExpired,
    notification.systemMaintenance,
    notification.systemAlert,
    domain.domainEvent,
  ],
})

/** Every Marty audit event type, e.g. `marty.audit.data_created`. */
export type AuditEventType = Extract<keyof MartyEventMap, `marty.audit.${string}`>

/** Every Marty notification event type, e.g. `marty.notification.user_welcome`. */
export type NotificationEventType = Extract<keyof MartyEventMap, `marty.notification.${string}`>

/** CloudEvents type of a domain event: `marty.domain.<aggregate>.<event>`. */
export type DomainEventType = `marty.domain.${string}.${string}`

/** Marty's `AuditEventType`: `AuditEventType.DATA_CREATED === 'marty.audit.data_created'`. */
export const AuditEventType = typeConstants<AuditEventType, 'marty.audit.'>(
  martyCatalog,
  'marty.audit.',
)

/** Marty's `NotificationEventType`: `NotificationEventType.USER_WELCOME === 'marty.notification.user_welcome'`. */
export const NotificationEventType = typeConstants<NotificationEventType, 'marty.notification.'>(
  martyCatalog,
  'marty.notification.',
)

let shared: SchemaRegistry<MartyEventMap> | undefined

/** The shared registry holding the Marty catalog. */
export function getSchemaRegistry(): SchemaRegistry<MartyEventMap> {
  shared ??= createSchemaRegistry().use(martyCatalog)
  return shared
}

/** Options of `createMartyEvent`: the producing service plus envelope attributes. */
export interface MartyEventOptions extends Omit<EnvelopeOptions, 'source'> {
  /** The producing service, used as CloudEvents `source`. */
  source: string
  /** Acting user, as extension `userid`. */
  userId?: string
  /** Registry validating the data. @default the shared Marty registry */
  registry?: ReadonlySchemaRegistry
}

/**
 * Builds any Marty event after validating its data; a domain type
 * (`marty.domain.<aggregate>.<event>`) is checked against the domain event shape.
 * @throws {SchemaValidationError} when the data does not match the schema of `type`.
 * @example createMartyEvent('marty.audit.user_logout', { action: 'logout', user_id: 'u1' }, { source: 'auth' })
 */
export function createMartyEvent<T extends keyof MartyEventMap & string>(
  type: T,
  data: MartyEventMap[T],
  options: MartyEventOptions,
): EventEnvelope<MartyEventMap[T]> {
  const { userId, registry = getSchemaRegistry(), extensions, ...attributes } = options
  const family = type.startsWith('marty.domain.') ? 'marty.domain.*.*' : type
  const ext = userId === undefined ? extensions : { ...extensions, userid: userId }
  return buildEvent(registry, definitionOf(martyCatalog, family), data, {
    ...attributes,
    type,
    ...(ext === undefined ? {} : { extensions: ext }),
  })
}
