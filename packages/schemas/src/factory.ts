import {
  ConfigurationError,
  createEvent,
  type EventEnvelope,
  type EventInput,
} from '@switchyard/core'
import type { Catalog, EventDefinition } from './catalog.js'
import type { ReadonlySchemaRegistry } from './registry.js'

/** Envelope attributes a factory caller may set; the rest comes from the catalog and the data. */
export interface EnvelopeOptions {
  /** CloudEvents `source`, e.g. the producing service. */
  source?: string
  /** Event id. @default a new UUID */
  id?: string
  /** Event time (RFC 3339). @default now */
  time?: string
  /** Tenant the event belongs to. */
  tenantId?: string
  /** Id shared by every event of one business flow. */
  correlationId?: string
  /** Id of the event that caused this one. */
  causationId?: string
  /** W3C trace context of the caller. */
  traceparent?: string
  /** Further extension attributes (lower-case names, string values). */
  extensions?: Record<string, string>
}

/** `EMPLOYEE_CREATED` from `employee.created`: the constant name of a type (after a prefix). */
export type ConstantName<T extends string> = T extends `${infer A}.${infer B}`
  ? `${Uppercase<A>}_${ConstantName<B>}`
  : Uppercase<T>

/** `{ EMPLOYEE_CREATED: 'employee.created', ... }` for every type starting with `P`. */
export type TypeConstants<Types extends string, P extends string = ''> = {
  readonly [T in Types as T extends `${P}${infer Rest}`
    ? Rest extends `${string}*${string}`
      ? never
      : ConstantName<Rest>
    : never]: T
}

/** Builds the constants object for the exact (non-pattern) types of a catalog that start with `prefix`. */
export function typeConstants<Types extends string, P extends string = ''>(
  catalog: Catalog,
  prefix: P = '' as P,
): TypeConstants<Types, P> {
  const out: Record<string, string> = {}
  for (const def of catalog.events) {
    if (!def.type.startsWith(prefix) || def.type.includes('*')) continue
    out[def.type.slice(prefix.length).replaceAll('.', '_').toUpperCase()] = def.type
  }
  return Object.freeze(out) as TypeConstants<Types, P>
}

/** Finds the latest definition of a type, or throws naming the catalog. */
export function definitionOf(catalog: Catalog, type: string): EventDefinition {
  let found: EventDefinition | undefined
  for (const def of catalog.events) {
    if (def.type === type && (found === undefined || def.version > found.version)) found = def
  }
  if (found === undefined) {
    throw new ConfigurationError(`"${type}" is not an event type of the ${catalog.name} catalog`, {
      field: 'type',
    })
  }
  return found
}

/**
 * Validates the data, then builds a complete CloudEvents envelope: `dataschema` is the schema
 * `$id`, `subject` and `partitionkey` come from the definition's key property.
 * @throws {SchemaValidationError} when the data does not match the schema.
 * @throws {ConfigurationError} for a malformed envelope attribute.
 */
export function buildEvent<T>(
  registry: ReadonlySchemaRegistry,
  def: EventDefinition,
  data: T,
  options: EnvelopeOptions & { type?: string; subject?: string },
): EventEnvelope<T> {
  const type = options.type ?? def.type
  registry.validate(type, data, { dataschema: def.id })
  const input: EventInput<T> = {
    type,
    data,
    dataschema: def.id,
    datacontenttype: 'application/json',
  }
  const key = def.key === undefined ? undefined : (data as Record<string, unknown>)[def.key]
  const subject = options.subject ?? (typeof key === 'string' ? key : undefined)
  if (subject !== undefined) {
    input.subject = subject
    input.partitionkey = subject
  }
  if (options.source !== undefined) input.source = options.source
  if (options.id !== undefined) input.id = options.id
  if (options.time !== undefined) input.time = options.time
  if (options.tenantId !== undefined) input.tenantid = options.tenantId
  if (options.correlationId !== undefined) input.correlationid = options.correlationId
  if (options.causationId !== undefined) input.causationid = options.causationId
  if (options.traceparent !== undefined) input.traceparent = options.traceparent
  if (options.extensions !== undefined && Object.keys(options.extensions).length > 0) {
    input.extensions = { ...options.extensions }
  }
  return createEvent(input)
}
