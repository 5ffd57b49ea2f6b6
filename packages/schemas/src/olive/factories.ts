import { ConfigurationError, type EventEnvelope } from '@switchyard/core'
import { buildEvent, definitionOf, type EnvelopeOptions } from '../factory.js'
import { getSchemaRegistry, type OliveEventType, oliveCatalog } from './catalog.js'
import type { OliveEventMap } from './types.generated.js'

/** Options of the Olive factories: the producing service plus Olive's metadata. */
export interface OliveEventOptions extends Omit<EnvelopeOptions, 'source'> {
  /** The producing service (Olive's `source_service`), used as CloudEvents `source`. */
  source: string
  /** Version of the producing service (Olive's `source_version`), as extension `sourceversion`. */
  sourceVersion?: string
  /** Acting user, as extension `userid`. */
  userId?: string
  /** Tags, as extension `tags` (comma-separated). */
  tags?: readonly string[]
}

/** An Olive event: a CloudEvents envelope whose data type follows from its type. */
export type OliveEvent<K extends OliveEventType = OliveEventType> = EventEnvelope<OliveEventMap[K]>

/** Olive event types of one family, e.g. `OliveFamily<'employee'>`. */
export type OliveFamily<F extends string> = Extract<OliveEventType, `${F}.${string}`>

/** A typed factory for the event types `K`. */
export type OliveFactory<K extends OliveEventType> = <T extends K>(
  type: T,
  data: OliveEventMap[T],
  options: OliveEventOptions,
) => OliveEvent<T>

/**
 * Builds any Olive event after validating its data.
 * @throws {SchemaValidationError} when the data does not match the schema of `type`.
 * @example createOliveEvent('task.created', { task_id: 't1', task_type: 'export' }, { source: 'ops' })
 */
export function createOliveEvent<T extends OliveEventType>(
  type: T,
  data: OliveEventMap[T],
  options: OliveEventOptions,
): OliveEvent<T> {
  const { sourceVersion, userId, tags, extensions, ...envelope } = options
  const ext: Record<string, string> = { ...extensions }
  if (sourceVersion !== undefined) ext.sourceversion = sourceVersion
  if (userId !== undefined) ext.userid = userId
  if (tags !== undefined && tags.length > 0) ext.tags = [...new Set(tags)].join(',')
  return buildEvent(getSchemaRegistry(), definitionOf(oliveCatalog, type), data, {
    ...envelope,
    extensions: ext,
  })
}

function family<F extends string>(prefix: F): OliveFactory<OliveFamily<F>> {
  return (type, data, options) => {
    if (typeof type !== 'string' || !type.startsWith(`${prefix}.`)) {
      throw new ConfigurationError(`"${String(type)}" is not a ${prefix}.* event type`, {
        field: 'type',
      })
    }
    return createOliveEvent(type, data, options)
  }
}

/**
 * Builds an `employee.*` event (Olive's `create_employee_event`).
 * @throws {SchemaValidationError} when the data does not match the schema.
 * @example
 * const event = createEmployeeEvent(OliveEventType.EMPLOYEE_CREATED,
 *   { employee_id: 'emp_123', email: 'john@example.com', first_name: 'John', last_name: 'Doe' },
 *   { source: 'hr-service', sourceVersion: '1.0.0' })
 * await bus.publish('employees.events', event)
 */
export const createEmployeeEvent: OliveFactory<OliveFamily<'employee'>> = family('employee')
/** Builds a `leave.*` event. @throws {SchemaValidationError} for invalid data. */
export const createLeaveEvent: OliveFactory<OliveFamily<'leave'>> = family('leave')
/** Builds a `client.*` event. @throws {SchemaValidationError} for invalid data. */
export const createClientEvent: OliveFactory<OliveFamily<'client'>> = family('client')
/** Builds an `asset.*` event. @throws {SchemaValidationError} for invalid data. */
export const createAssetEvent: OliveFactory<OliveFamily<'asset'>> = family('asset')
/** Builds a `system.*` event. @throws {SchemaValidationError} for invalid data. */
export const createSystemEvent: OliveFactory<OliveFamily<'system'>> = family('system')
/** Builds an `audit.*` event. @throws {SchemaValidationError} for invalid data. */
export const createAuditEvent: OliveFactory<OliveFamily<'audit'>> = family('audit')
/** Builds a `task.*` event. @throws {SchemaValidationError} for invalid data. */
export const createTaskEvent: OliveFactory<OliveFamily<'task'>> = family('task')
