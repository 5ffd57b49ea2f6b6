import { ConfigurationError } from '@switchyard/core'
import {
  type Catalog,
  compatibilityProblems,
  createSchemaRegistry,
  type JsonSchema,
  type SchemaRegistry,
} from '@switchyard/schemas'
import { anumateCatalog } from '@switchyard/schemas/anumate'
import { martyCatalog } from '@switchyard/schemas/marty'
import { oliveCatalog } from '@switchyard/schemas/olive'
import { HttpProblem } from './problem.js'
import type { StateStore, StoredSchema } from './state/store.js'

/** A schema version as the API shows it. */
export interface SchemaView {
  /** Event type (the schema's id in the API). */
  event_type: string
  /** Version. */
  version: number
  /** Where it came from: a preloaded catalog (`olive`, `anumate`, `marty`) or `custom`. */
  origin: string
  /** The JSON Schema. */
  schema: unknown
  /** Description. */
  description?: string | undefined
  /** When it was registered (custom schemas). */
  created_at?: string | undefined
}

/** The schema registry of the gateway: the seed catalogs plus schemas registered over the API. */
export class Schemas {
  /** The registry events are validated with. */
  readonly registry: SchemaRegistry = createSchemaRegistry()
  private readonly views = new Map<string, SchemaView[]>()

  constructor(
    private readonly store: StateStore,
    preload: boolean,
  ) {
    if (!preload) return
    const catalogs: Catalog[] = [oliveCatalog, anumateCatalog, martyCatalog]
    for (const catalog of catalogs) {
      this.registry.use(catalog)
      for (const def of catalog.events) {
        this.remember({
          event_type: def.type,
          version: def.version,
          origin: catalog.name,
          schema: def.schema,
          description: def.summary,
        })
      }
    }
  }

  /** Registers the schemas persisted earlier. */
  async init(): Promise<void> {
    for (const stored of await this.store.listSchemas()) this.apply(stored)
  }

  /** Every event type with its versions. */
  list(): SchemaView[] {
    return [...this.views.values()].map((versions) => versions[versions.length - 1]!)
  }

  /** The versions of one type, oldest first, or undefined. */
  get(eventType: string): SchemaView[] | undefined {
    return this.views.get(eventType)
  }

  /**
   * Registers and persists a new version (the next one when `version` is omitted).
   * @throws {HttpProblem} 409 listing the compatibility problems, or for a version that exists;
   * 422 for a schema the registry cannot compile.
   */
  async add(input: {
    eventType: string
    schema: JsonSchema
    version?: number | undefined
    description?: string | undefined
  }): Promise<SchemaView> {
    const versions = this.views.get(input.eventType) ?? []
    const latest = versions[versions.length - 1]
    const version = input.version ?? (latest?.version ?? 0) + 1
    if (versions.some((v) => v.version === version)) {
      throw new HttpProblem(409, `"${input.eventType}" version ${version} is already registered`)
    }
    if (latest !== undefined && version < latest.version) {
      throw new HttpProblem(
        409,
        `"${input.eventType}" versions are registered in order: ${version} after ${latest.version}`,
      )
    }
    if (latest !== undefined) {
      const problems = compatibilityProblems(latest.schema as JsonSchema, input.schema)
      if (problems.length > 0) {
        throw new HttpProblem(
          409,
          `Version ${version} of "${input.eventType}" is not backward compatible with version ${latest.version}`,
          { extra: { problems } },
        )
      }
    }
    const stored: StoredSchema = {
      eventType: input.eventType,
      version,
      schema: input.schema as StoredSchema['schema'],
      description: input.description,
      createdAt: new Date().toISOString(),
    }
    try {
      this.registry.register(input.eventType, input.schema, version)
    } catch (error) {
      if (error instanceof ConfigurationError) {
        throw new HttpProblem(422, `The schema cannot be used: ${error.message}`)
      }
      throw error
    }
    if (!(await this.store.addSchema(stored))) {
      throw new HttpProblem(409, `"${input.eventType}" version ${version} is already registered`)
    }
    return this.remember(viewOf(stored))
  }

  private apply(stored: StoredSchema): void {
    if (this.views.get(stored.eventType)?.some((v) => v.version === stored.version)) return
    this.registry.register(stored.eventType, stored.schema, stored.version)
    this.remember(viewOf(stored))
  }

  private remember(view: SchemaView): SchemaView {
    const versions = this.views.get(view.event_type) ?? []
    versions.push(view)
    this.views.set(view.event_type, versions)
    return view
  }
}

function viewOf(stored: StoredSchema): SchemaView {
  return {
    event_type: stored.eventType,
    version: stored.version,
    origin: 'custom',
    schema: stored.schema,
    description: stored.description,
    created_at: stored.createdAt,
  }
}
