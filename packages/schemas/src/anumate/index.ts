// `@switchyard/schemas/anumate`: the `com.anumate.*` catalog, per-service publishers and subscribers.
export type { AnumateService, EventContext } from './catalog.js'
export {
  ANUMATE_SERVICES,
  ANUMATE_SOURCE_BASE,
  AnumateEventType,
  anumateCatalog,
  contextOf,
  createAnumateEvent,
  getSchemaRegistry,
  serviceOf,
} from './catalog.js'
export type {
  AnumatePublisherOptions,
  AnumatePublishers,
  MethodName,
  ServicePublisher,
} from './publishers.js'
export { createAnumatePublishers } from './publishers.js'
export type {
  AnumateHandler,
  AnumateHandlers,
  AnumateSubscriber,
  AnumateSubscriberOptions,
  AnumateSubscribers,
} from './subscribers.js'
export { createAnumateSubscribers } from './subscribers.js'
export type {
  AnumateEventMap,
  ApprovalGrantedData,
  ApprovalRejectedData,
  ApprovalRequestedData,
  CapsuleCreatedData,
  CapsuleDeletedData,
  CapsulePublishedData,
  CapsuleUpdatedData,
  ExecutionCompletedData,
  ExecutionFailedData,
  ExecutionPausedData,
  ExecutionResumedData,
  ExecutionStartedData,
  PolicyCreatedData,
  PolicyEnforcedData,
  PolicyUpdatedData,
  PolicyViolatedData,
} from './types.generated.js'
