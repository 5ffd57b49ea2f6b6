import type { FromSchema, JSONSchema } from 'json-schema-to-ts'

/** A JSON Schema (2020-12) object. Kept loose on purpose: ajv is the judge of what is valid. */
export interface JsonSchemaObject {
  readonly [keyword: string]: unknown
}

/** A JSON Schema: an object, or `true`/`false` (accept anything / nothing). */
export type JsonSchema = boolean | JsonSchemaObject

/** JSON Schema dialect every catalog document declares. */
export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema'

/** Base of every catalog schema `$id`; the full id adds `<catalog>/<type>/v<version>.json`. */
export const SCHEMA_ID_BASE = 'https://schemas.switchyard.dev'

/** One event type at one version, as written in a catalog (before `$id` and dialect are added). */
export interface EventSpec<
  T extends string = string,
  S extends JsonSchemaObject = JsonSchemaObject,
> {
  /** CloudEvents `type`; `*` matches one dot-separated segment (a family of types). */
  readonly type: T
  /** Schema version, a positive integer. Bump it when the data shape changes. */
  readonly version: number
  /** Default topic (channel) the event is published to. */
  readonly topic: string
  /** One line saying when the event happens. */
  readonly summary: string
  /** Property of the data used as CloudEvents `subject` and as the partition key. */
  readonly key?: string
  /** JSON Schema of the event's `data`, with `examples`. */
  readonly schema: S
}

/** A catalog entry: the spec with its complete, self-describing schema document. */
export interface EventDefinition<
  T extends string = string,
  S extends JsonSchemaObject = JsonSchemaObject,
> extends EventSpec<T, S> {
  /** Name of the catalog the event belongs to. */
  readonly catalog: string
  /** The schema's `$id`; factories put it in the envelope's `dataschema`. */
  readonly id: string
}

/**
 * A named set of event definitions. `M` maps each event type to its data type; it exists only
 * for the type checker (see `SchemaRegistry.use`).
 */
export interface Catalog<M extends object = object> {
  /** Short name, e.g. `olive`. */
  readonly name: string
  /** Human title used in generated documents. */
  readonly title: string
  /** Catalog version (semver), used as the AsyncAPI `info.version`. */
  readonly version: string
  /** What the catalog covers. */
  readonly description: string
  /** Every event type and version. */
  readonly events: readonly EventDefinition[]
  /** Type-only marker carrying the event map; always `undefined` at run time. */
  readonly '~events'?: M
}

/** The event map a catalog carries. */
export type EventMapOf<C> = C extends Catalog<infer M> ? M : never

/** The `$id` of a catalog schema: `https://schemas.switchyard.dev/<catalog>/<type>/v<version>.json`. */
export function schemaId(catalog: string, type: string, version: number): string {
  return `${SCHEMA_ID_BASE}/${catalog}/${type.replaceAll('*', '_')}/v${version}.json`
}

/**
 * Keeps the literal types of a spec so the data type can be derived from the schema itself.
 * @example export const employeeCreated = eventSpec({ type: 'employee.created', version: 1, ... })
 */
export function eventSpec<const T extends string, const S extends JsonSchemaObject>(
  spec: EventSpec<T, S>,
): EventSpec<T, S> {
  return spec
}

/** What `defineCatalog` takes: the catalog's description and its event specs. */
export interface CatalogInit<S extends readonly EventSpec[] = readonly EventSpec[]> {
  /** Short name, e.g. `olive`; part of every schema `$id`. */
  name: string
  /** Human title used in generated documents. */
  title: string
  /** Catalog version (semver). */
  version: string
  /** What the catalog covers. */
  description: string
  /** Every event type and version (build each with `eventSpec` to keep its literal types). */
  specs: S
}

/** A spec's type as an event map key: `marty.domain.*.*` → `` `marty.domain.${string}.${string}` ``. */
export type TypeKey<T extends string> = T extends `${infer A}*${infer B}`
  ? `${A}${string}${TypeKey<B>}`
  : T

/**
 * The event map of a list of specs: each type's data type derived from its own JSON Schema by
 * json-schema-to-ts's `FromSchema` (the schema must keep its literal types: `eventSpec` or
 * `as const`). Several versions of one type give the union of their data types.
 */
export type EventMapOfSpecs<S extends readonly EventSpec[]> = {
  [E in S[number] as TypeKey<E['type']>]: E['schema'] extends JSONSchema
    ? FromSchema<E['schema']>
    : unknown
}

/**
 * Builds a catalog: each spec gets its `$schema` dialect, `$id`, `title` and `description`, so
 * every schema document stands on its own (registries, AsyncAPI, other languages). Without a
 * type argument the event map is derived from the specs' schemas (see `EventMapOfSpecs`), so a
 * custom catalog's data types are never written twice; the seed catalogs pass their generated map.
 * @example
 * const shop = defineCatalog({ name: 'shop', title: 'Shop', version: '1.0.0', description: 'Orders',
 *   specs: [eventSpec({ type: 'order.placed', version: 1, topic: 'orders', summary: 'An order was placed.',
 *     schema: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] } })] })
 * typedBus(bus, shop).publish('orders', { type: 'order.placed', data: { order_id: 'o1' } })
 */
export function defineCatalog<const S extends readonly EventSpec[]>(
  init: CatalogInit<S>,
): Catalog<EventMapOfSpecs<S>>
/** Builds a catalog whose event map `M` is given (the seed catalogs' generated maps). */
export function defineCatalog<M extends object>(init: CatalogInit): Catalog<M>
export function defineCatalog(init: CatalogInit): Catalog {
  const events = init.specs.map((spec): EventDefinition => {
    const id = schemaId(init.name, spec.type, spec.version)
    const schema = {
      $schema: JSON_SCHEMA_DIALECT,
      $id: id,
      title: spec.type,
      description: spec.summary,
      ...spec.schema,
    }
    return Object.freeze({ ...spec, catalog: init.name, id, schema })
  })
  return Object.freeze({
    name: init.name,
    title: init.title,
    version: init.version,
    description: init.description,
    events: Object.freeze(events),
  })
}
