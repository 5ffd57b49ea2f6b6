import type { StandardSchemaV1 } from '@standard-schema/spec'
import {
  ConfigurationError,
  SchemaValidationError,
  typeMatcher,
  type ValidationIssue,
} from '@switchyard/core'
import { checkKeys, checkNumber } from '@switchyard/core/transport'
import type { Catalog, JsonSchema } from './catalog.js'
import { compatibilityProblems } from './compatibility.js'
import { createAjv, type Entry, jsonEntry, standardEntry, type ValidationResult } from './entry.js'

/** A schema the registry accepts: a JSON Schema (2020-12) or any Standard Schema validator. */
export type SchemaInput = JsonSchema | StandardSchemaV1

/** The data type a schema describes: inferred for Standard Schemas, `unknown` for JSON Schemas. */
export type DataOf<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : unknown

/** The data type of event type `K` in event map `M`, or `unknown` for types it does not know. */
export type DataFor<M, K extends string> = K extends keyof M ? M[K] : unknown

/** What validating code needs from a registry of any event map (no registration). */
export type ReadonlySchemaRegistry = Pick<
  SchemaRegistry,
  | 'check'
  | 'checkAsync'
  | 'validate'
  | 'validateAsync'
  | 'has'
  | 'types'
  | 'versions'
  | 'schemaOf'
  | 'pick'
  | 'precompile'
>

/** Options of `createSchemaRegistry`. */
export interface SchemaRegistryOptions {
  /**
   * Checked when a new version of a type is registered: `backward` refuses a JSON Schema that
   * rejects data the previous version accepted (see `isBackwardCompatible`).
   * @default 'backward'
   */
  compatibility?: 'backward' | 'none'
  /** Most issues listed per failed validation; a last issue says more were cut. @default 50 */
  maxIssues?: number
}

/** Picks a version; without either option the latest registered version is used. */
export interface ValidateOptions {
  /** Exact schema version. */
  version?: number | undefined
  /** A schema `$id`, as carried in the envelope's `dataschema`; ignored when unknown. */
  dataschema?: string | undefined
}

/**
 * Schemas by event type and version, with compiled, cached validators.
 * @example
 * const registry = createSchemaRegistry().use(oliveCatalog)
 * registry.validate('employee.created', data) // typed; throws SchemaValidationError
 */
export class SchemaRegistry<M extends object = Record<never, never>> {
  private readonly ajv = createAjv()
  private readonly exact = new Map<string, Entry[]>()
  private readonly patterns: {
    type: string
    matches: (type: string) => boolean
    entries: Entry[]
  }[] = []
  private readonly byId = new Map<string, Entry>()
  private readonly latest = new Map<string, Entry>()
  private readonly compatibility: 'backward' | 'none'
  private readonly maxIssues: number

  constructor(options: SchemaRegistryOptions = {}) {
    checkKeys(options, ['compatibility', 'maxIssues'], 'createSchemaRegistry')
    const compatibility = options.compatibility ?? 'backward'
    if (compatibility !== 'backward' && compatibility !== 'none') {
      throw new ConfigurationError('compatibility must be "backward" or "none"', {
        field: 'compatibility',
      })
    }
    this.compatibility = compatibility
    this.maxIssues = checkNumber(options.maxIssues ?? 50, 'maxIssues', { min: 1, integer: true })
  }

  /** Registers every event of a catalog; validators compile on first use. Safe to call twice. */
  use<N extends object>(catalog: Catalog<N>): SchemaRegistry<M & N> {
    for (const def of catalog.events) {
      this.add(
        jsonEntry(this.ajv, def.type, def.version, def.schema, this.maxIssues, def.id),
        false,
      )
    }
    return this as unknown as SchemaRegistry<M & N>
  }

  /**
   * Registers a schema for an event type (a `*` matches one segment of a family of types).
   * The validator compiles at once, so a broken schema fails here.
   * @throws {ConfigurationError} for an invalid schema, a version registered twice or out of
   * order, or (with `compatibility: 'backward'`) a version that breaks the previous one.
   * @example registry.register('custom.event', { type: 'object', required: ['custom_field'] }, 1)
   */
  register<const T extends string, S extends SchemaInput>(
    type: T,
    schema: S,
    version = 1,
  ): SchemaRegistry<M & { [K in T]: DataOf<S> }> {
    if (typeof type !== 'string' || type.length === 0) {
      throw new ConfigurationError('register needs a non-empty event type', { field: 'type' })
    }
    checkNumber(version, 'version', { min: 1, integer: true })
    const entry = isStandardSchema(schema)
      ? standardEntry(type, version, schema, this.maxIssues)
      : jsonEntry(this.ajv, type, version, schema as JsonSchema, this.maxIssues, undefined)
    this.add(entry, true)
    return this as unknown as SchemaRegistry<M & { [K in T]: DataOf<S> }>
  }

  /**
   * Compiles every registered schema now instead of on first use (tens of ms per catalog schema),
   * so the first event of each type is not slower than the rest. Returns how many were compiled.
   * @throws {ConfigurationError} naming the first schema that does not compile.
   */
  precompile(): number {
    const all = [...this.exact.values(), ...this.patterns.map((p) => p.entries)].flat()
    for (const entry of all) entry.compile()
    return all.length
  }

  /** True when a schema covers the type (exactly or through a pattern). */
  has(type: string): boolean {
    return this.entries(type) !== undefined
  }

  /** Registered event types and patterns. */
  types(): string[] {
    return [...this.exact.keys(), ...this.patterns.map((p) => p.type)]
  }

  /** Registered versions of a type, ascending. */
  versions(type: string): number[] {
    return (this.entries(type) ?? []).map((e) => e.version)
  }

  /** The schema of a type (latest version unless `version` is given). */
  schemaOf(type: string, version?: number): SchemaInput | undefined {
    return this.pick(type, version === undefined ? {} : { version })?.schema
  }

  /**
   * Validates without throwing. Issues name every failing path (`data.email`).
   * @throws {ConfigurationError} if the schema is a Standard Schema that validates asynchronously.
   */
  check<K extends string>(
    type: K,
    data: unknown,
    options?: ValidateOptions,
  ): ValidationResult<DataFor<M, K>> {
    const entry = this.pick(type, options)
    if (entry === undefined) return { ok: false, issues: [this.unknown(type, options)] }
    const result = entry.run(data)
    if (result instanceof Promise) {
      result.catch(() => undefined)
      throw new ConfigurationError(
        `The schema of "${type}" is asynchronous: use checkAsync or validateAsync`,
        {
          field: 'schema',
        },
      )
    }
    return result as ValidationResult<DataFor<M, K>>
  }

  /** Like `check`, for asynchronous Standard Schemas too. */
  async checkAsync<K extends string>(
    type: K,
    data: unknown,
    options?: ValidateOptions,
  ): Promise<ValidationResult<DataFor<M, K>>> {
    const entry = this.pick(type, options)
    if (entry === undefined) return { ok: false, issues: [this.unknown(type, options)] }
    return (await entry.run(data)) as ValidationResult<DataFor<M, K>>
  }

  /**
   * Returns the data, typed, when it matches the schema of `type`.
   * @throws {SchemaValidationError} listing every failing path, or naming an unknown type.
   */
  validate<K extends string>(type: K, data: unknown, options?: ValidateOptions): DataFor<M, K> {
    // Valid JSON-Schema data is returned as is, without building a result object.
    if (this.pick(type, options)?.accepts(data) === true) return data as DataFor<M, K>
    const result = this.check(type, data, options)
    if (result.ok) return result.value
    throw new SchemaValidationError(result.issues, { eventType: type })
  }

  /** Like `validate`, for asynchronous Standard Schemas too. */
  async validateAsync<K extends string>(
    type: K,
    data: unknown,
    options?: ValidateOptions,
  ): Promise<DataFor<M, K>> {
    const result = await this.checkAsync(type, data, options)
    if (result.ok) return result.value
    throw new SchemaValidationError(result.issues, { eventType: type })
  }

  /** @internal The entry that validates `type`, honouring `dataschema` and `version`. */
  pick(type: string, options: ValidateOptions | undefined): Entry | undefined {
    if (options === undefined) return this.latest.get(type) ?? this.latestOfPattern(type)
    const entries = this.entries(type)
    if (entries === undefined) return undefined
    if (options?.dataschema !== undefined) {
      const byId = this.byId.get(options.dataschema)
      if (byId !== undefined && entries.includes(byId)) return byId
    }
    if (options?.version !== undefined) return entries.find((e) => e.version === options.version)
    return entries[entries.length - 1]
  }

  private latestOfPattern(type: string): Entry | undefined {
    const entries = this.patterns.find((p) => p.matches(type))?.entries
    return entries?.[entries.length - 1]
  }

  private entries(type: string): Entry[] | undefined {
    return this.exact.get(type) ?? this.patterns.find((p) => p.matches(type))?.entries
  }

  private unknown(type: string, options: ValidateOptions | undefined): ValidationIssue {
    if (this.entries(type) !== undefined && options?.version !== undefined) {
      return { path: 'type', message: `"${type}" has no schema version ${options.version}` }
    }
    return { path: 'type', message: `"${type}" has no registered schema` }
  }

  private add(entry: Entry, compileNow: boolean): void {
    let entries =
      this.exact.get(entry.type) ?? this.patterns.find((p) => p.type === entry.type)?.entries
    const same = entries?.find((e) => e.version === entry.version)
    if (same !== undefined) {
      if (same.schema === entry.schema) return
      throw new ConfigurationError(
        `"${entry.type}" version ${entry.version} is already registered`,
        {
          field: 'version',
        },
      )
    }
    const previous = entries?.[entries.length - 1]
    if (previous !== undefined && previous.version > entry.version) {
      throw new ConfigurationError(
        `Register versions of "${entry.type}" in order: ${entry.version} after ${previous.version}`,
        { field: 'version' },
      )
    }
    if (compileNow) entry.compile()
    if (
      previous !== undefined &&
      this.compatibility === 'backward' &&
      !entry.standard &&
      !previous.standard
    ) {
      const problems = compatibilityProblems(
        previous.schema as JsonSchema,
        entry.schema as JsonSchema,
      )
      if (problems.length > 0) {
        throw new ConfigurationError(
          `"${entry.type}" version ${entry.version} is not backward compatible with version ${previous.version}: ${problems.join('; ')}`,
          { field: 'schema' },
        )
      }
    }
    if (entries === undefined) {
      entries = []
      if (entry.type.includes('*')) {
        this.patterns.push({ type: entry.type, matches: typeMatcher(entry.type), entries })
      } else {
        this.exact.set(entry.type, entries)
      }
    }
    entries.push(entry)
    if (!entry.type.includes('*')) this.latest.set(entry.type, entry)
    if (entry.id !== undefined) this.byId.set(entry.id, entry)
  }
}

function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as Partial<StandardSchemaV1>)['~standard']?.validate === 'function'
  )
}

/**
 * Creates an empty registry; add catalogs with `.use()` and custom events with `.register()`.
 * @throws {ConfigurationError} for unknown or out-of-range options.
 * @example
 * const registry = createSchemaRegistry().use(oliveCatalog).register('custom.event', zodSchema)
 */
export function createSchemaRegistry(options?: SchemaRegistryOptions): SchemaRegistry {
  return new SchemaRegistry(options)
}
