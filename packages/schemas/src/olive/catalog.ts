import { defineCatalog } from '../catalog.js'
import { typeConstants } from '../factory.js'
import { createSchemaRegistry, type SchemaRegistry, type ValidateOptions } from '../registry.js'
import * as operations from './schemas-operations.js'
import * as people from './schemas-people.js'
import type { OliveEventMap } from './types.generated.js'

/** Every Olive event type, by CloudEvents `type`. */
export type OliveEventType = keyof OliveEventMap

/** The Olive workforce-management catalog: employees, leave, clients, assets, system, audit, tasks. */
export const oliveCatalog = defineCatalog<OliveEventMap>({
  name: 'olive',
  title: 'Olive workforce events',
  version: '1.0.0',
  description:
    'Events of the Olive workforce-management platform (HR, leave, clients, assets, operations).',
  // Listed, not Object.values(module): namespace key order differs between Node and bundlers.
  specs: [
    people.employeeCreated,
    people.employeeUpdated,
    people.employeeDeleted,
    people.leaveCreated,
    people.leaveApproved,
    people.leaveRejected,
    operations.clientCreated,
    operations.clientUpdated,
    operations.clientDeleted,
    operations.assetCreated,
    operations.assetAssigned,
    operations.assetReturned,
    operations.systemHealthCheck,
    operations.systemBackupCompleted,
    operations.auditUserLogin,
    operations.auditPermissionChange,
    operations.taskCreated,
  ],
})

/**
 * Olive's `EventType` enum: `OliveEventType.EMPLOYEE_CREATED === 'employee.created'`.
 * @example createEmployeeEvent(OliveEventType.EMPLOYEE_CREATED, data, { source: 'hr-service' })
 */
export const OliveEventType = typeConstants<OliveEventType>(oliveCatalog)

let registry: SchemaRegistry<OliveEventMap> | undefined

/** The shared registry holding the Olive catalog (Olive's `get_schema_registry()`). */
export function getSchemaRegistry(): SchemaRegistry<OliveEventMap> {
  registry ??= createSchemaRegistry().use(oliveCatalog)
  return registry
}

/**
 * Validates the data of an Olive event (Olive's `validate_event_data`).
 * @throws {SchemaValidationError} listing every failing path.
 * @example validateEventData(OliveEventType.EMPLOYEE_CREATED, { employee_id: 'emp_123', ... })
 */
export function validateEventData<K extends OliveEventType>(
  type: K,
  data: unknown,
  options?: ValidateOptions,
): OliveEventMap[K] {
  return getSchemaRegistry().validate(type, data, options) as OliveEventMap[K]
}
