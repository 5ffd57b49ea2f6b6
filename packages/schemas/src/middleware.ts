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
  const skip = (type: string) => skipped(type) || (unknownTypes === 'allow' && !registry.has(type))

  // Sync schemas answer at once; only asynchronous Standard Schemas cost a promise.
  const check = (event: EventEnvelope): ValidationResult | Promise<ValidationResult> => {
    const entry = registry.pick(
      event.type,
      event.dataschema === undefined ? undefined : { dataschema: event.dataschema },
    )
    if (entry === undefined) return registry.check(event.type, event.data)
    return entry.run(event.data)
  }
  const failure = (
    event: EventEnvelope,
    result: ValidationResult,
  ): SchemaValidationError | undefined =>
    result.ok ? undefined : new SchemaValidationError(result.issues, { eventType: event.type })

  const middleware: { -readonly [K in keyof Middleware]: Middleware[K] } = { name: 'schemas' }
  if (options.publish !== false) {
    middleware.publish = async (ctx, next) => {
      if (!skip(ctx.event.type)) {
        const error = failure(ctx.event, await check(ctx.event))
        if (error !== undefined) throw error
      }
      await next()
    }
  }
  if (options.consume !== false) {
    middleware.handle = async (ctx, next) => {
      if (skip(ctx.event.type)) return next()
      const error = failure(ctx.event, await check(ctx.event))
      if (error === undefined) return next()
      return outcome.deadLetter(
        `schema validation failed: ${error.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
        error,
      )
    }
  }
  return middleware
}
