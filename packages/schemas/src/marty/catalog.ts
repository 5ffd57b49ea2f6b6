import { defineCatalog } from '../catalog.js'
import { typeConstants } from '../factory.js'
import { createSchemaRegistry, type SchemaRegistry } from '../registry.js'
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
