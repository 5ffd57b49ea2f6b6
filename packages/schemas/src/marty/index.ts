// `@switchyard/schemas/marty`: Marty's audit, notification and domain events, `EventPublisher`
// with its topic naming and `fromEnv()`, and the `@auditEvent` / `@domainEvent` decorators.
export type { DomainEventType, MartyEventOptions } from './catalog.js'
export {
  AuditEventType,
  createMartyEvent,
  getSchemaRegistry,
  martyCatalog,
  NotificationEventType,
} from './catalog.js'
export type { EventPublisherConfig } from './config.js'
export { fromEnv, topicName } from './config.js'
export type {
  AsyncMethodDecorator,
  AuditEventOptions,
  DomainEventOptions,
  MethodCall,
  Selector,
} from './decorators.js'
export { auditEvent, domainEvent } from './decorators.js'
export type {
  AuditInput,
  EventPublisherOptions,
  EventSink,
  MartyPublishOptions,
} from './publisher.js'
export { EventPublisher } from './publisher.js'
export type {
  CertificateExpiredData,
  CertificateExpiringData,
  CertificateIssuedData,
  CertificateRevokedData,
  DataCreatedData,
  DataDeletedData,
  DataUpdatedData,
  DomainEventData,
  MartyEventMap,
  PermissionDeniedData,
  ServiceErrorData,
  ServiceStartedData,
  SystemAlertData,
  SystemMaintenanceData,
  UserLoginData,
  UserLogoutData,
  UserPasswordResetData,
  UserWelcomeData,
} from './types.generated.js'
