// `@switchyard/schemas/olive`: the Olive catalog, its typed factories and OliveEvent helpers.
export { getSchemaRegistry, OliveEventType, oliveCatalog, validateEventData } from './catalog.js'
export type { OliveEvent, OliveEventOptions, OliveFactory, OliveFamily } from './factories.js'
export {
  createAssetEvent,
  createAuditEvent,
  createClientEvent,
  createEmployeeEvent,
  createLeaveEvent,
  createOliveEvent,
  createSystemEvent,
  createTaskEvent,
} from './factories.js'
export type { OliveEventJson } from './olive-event.js'
export {
  addTag,
  fromOliveJson,
  tagsOf,
  toOliveJson,
  withCorrelationId,
  withUserContext,
} from './olive-event.js'
export type {
  AssetAssignedData,
  AssetCreatedData,
  AssetReturnedData,
  AuditPermissionChangeData,
  AuditUserLoginData,
  ClientCreatedData,
  ClientDeletedData,
  ClientUpdatedData,
  EmployeeCreatedData,
  EmployeeDeletedData,
  EmployeeUpdatedData,
  LeaveApprovedData,
  LeaveCreatedData,
  LeaveRejectedData,
  OliveEventMap,
  SystemBackupCompletedData,
  SystemHealthCheckData,
  TaskCreatedData,
} from './types.generated.js'
