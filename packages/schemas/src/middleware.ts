import {
  ConfigurationError,
  type EventEnvelope,
  type Middleware,
  outcome,
  SchemaValidationError,
  typeMatcher,
} from '@switchyard/core'
import { checkKeys } from '@switchyard/core/transport'
import type { ValidationResult } from './entry.js'
import type { ReadonlySchemaRegistry } from './registry.js'

/** Options of `validationMiddleware`. */
export interface ValidationMiddlewareOptions {
  /** Validate events before they are sent; an invalid event is refused and nothing is sent. @default true */
  publish?: boolean
  /** Validate events before handlers run; an invalid event is dead-lettered. @default true */
  consume?: boolean
  /**
   * Events whose type has no schema: `allow` lets them through, `reject` treats them as invalid.
   * @default 'allow'
   */
  unknownTypes?: 'allow' | 'reject'
  /**
   * Types never validated (globs). Switchyard's own events (dead letters) and request/reply
   * answers have no catalog schema. @default ['io.switchyard.**', '**.reply']
   */
  skip?: readonly string[]
}

/**
 * Validates event data against the registry on publish and on consume. On publish an invalid
 * event rejects `publish()` with a `SchemaValidationError` and is not sent; on consume it goes
 * to the dead-letter destination at once (no retries: the data will not get better), with the
 * error naming every failing path, and the subscription moves on.
 * The schema is picked by the event's `dataschema` when the registry knows that `$id`, else the
 * latest version of its type.
 * @throws {ConfigurationError} for unknown options.
 * @example
 * const bus = createEventBus({ transport, middleware: [validationMiddleware(registry)] })
 */
export function validationMiddleware(
  registry: ReadonlySchemaRegistry,
  options: ValidationMiddlewareOptions = {},
): Middleware {
  checkKeys(options, ['publish', 'consume', 'unknownTypes', 'skip'], 'validationMiddleware')
  const unknownTypes = options.unknownTypes ?? 'allow'
  if (unknownTypes !== 'allow' && unknownTypes !== 'reject') {
    throw new ConfigurationError('unknownTypes must be "allow" or "reject"', {
      field: 'unknownTypes',
    })
  }
  const skipped = typeMatcher(options.skip ?? ['io.switchyard.**', '**.reply'])
  const reject = unknownTypes === 'reject'

  // Returns undefined when the event may pass. Sync schemas answer at once, so the common path
  // costs no promise; only asynchronous Standard Schemas do.
  const verdict = (
    event: EventEnvelope,
  ): SchemaValidationError | undefined | Promise<SchemaValidationError | undefined> => {
    const entry = registry.pick(event.type, { dataschema: event.dataschema })
    if (entry === undefined) {
      if (!reject || skipped(event.type)) return undefined
      return failure(event, registry.check(event.type, event.data))
    }
    if (entry.accepts(event.data) || skipped(event.type)) return undefined
    const result = entry.run(event.data)
    return result instanceof Promise
      ? result.then((r) => failure(event, r))
      : failure(event, result)
  }
  const failure = (
    event: EventEnvelope,
    result: ValidationResult,
  ): SchemaValidationError | undefined =>
    result.ok ? undefined : new SchemaValidationError(result.issues, { eventType: event.type })
  const deadLetter = (error: SchemaValidationError) =>
    outcome.deadLetter(
      `schema validation failed: ${error.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      error,
    )

  const middleware: { -readonly [K in keyof Middleware]: Middleware[K] } = { name: 'schemas' }
  if (options.publish !== false) {
    middleware.publish = (ctx, next) => {
      const error = verdict(ctx.event)
      if (error === undefined) return next()
      if (error instanceof Promise)
        return error.then((e) => (e === undefined ? next() : Promise.reject(e)))
      return Promise.reject(error)
    }
  }
  if (options.consume !== false) {
    middleware.handle = (ctx, next) => {
      const error = verdict(ctx.event)
      if (error === undefined) return next()
      if (error instanceof Promise)
        return error.then((e) => (e === undefined ? next() : deadLetter(e)))
      return Promise.resolve(deadLetter(error))
    }
  }
  return middleware
}
