// `@switchyard/schemas`: the generic registry, validation middleware, compatibility check and
// AsyncAPI export. The seed catalogs live under `/olive`, `/anumate` and `/marty`.
export type { AsyncApiDocument, AsyncApiOptions, AsyncApiServer } from './asyncapi.js'
export { toAsyncApi } from './asyncapi.js'
export type {
  Catalog,
  CatalogInit,
  EventDefinition,
  EventMapOf,
  EventMapOfSpecs,
  EventSpec,
  JsonSchema,
  JsonSchemaObject,
  TypeKey,
} from './catalog.js'
export {
  defineCatalog,
  eventSpec,
  JSON_SCHEMA_DIALECT,
  SCHEMA_ID_BASE,
  schemaId,
} from './catalog.js'
export { compatibilityProblems, isBackwardCompatible } from './compatibility.js'
export type { ValidationResult } from './entry.js'
export type { ConstantName, EnvelopeOptions, TypeConstants } from './factory.js'
export { buildEvent, definitionOf, typeConstants } from './factory.js'
export { formatPath } from './issues.js'
export type { ValidationMiddlewareOptions } from './middleware.js'
export { validationMiddleware } from './middleware.js'
export type { Attributes, JsonObject } from './parts.generated.js'
export type {
  DataFor,
  DataOf,
  ReadonlySchemaRegistry,
  SchemaInput,
  SchemaRegistryOptions,
  ValidateOptions,
} from './registry.js'
export { createSchemaRegistry, SchemaRegistry } from './registry.js'
export {
  attributes,
  date,
  dateTime,
  email,
  identifier,
  jsonObject,
  label,
  semver,
  text,
  uuid,
} from './schema-parts.js'
export type { TypesMatching } from './type-glob.js'
export type {
  CatalogEvent,
  CatalogHandler,
  CatalogInput,
  CatalogRoutes,
  CatalogType,
  RouteTypes,
  SubscriptionOf,
  TypedBus,
} from './typed-bus.js'
export { typedBus } from './typed-bus.js'
