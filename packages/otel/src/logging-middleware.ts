import { context, isSpanContextValid, type SpanContext, trace } from '@opentelemetry/api'
import {
  ConfigurationError,
  type EventEnvelope,
  type HandleContext,
  type Middleware,
  type Outcome,
  type PublishContext,
} from '@switchyard/core'
import { parseTraceparent } from './w3c.js'

/** Log method shape shared by pino, bunyan-style and console-like structured loggers. */
export type LogMethod = (fields: Record<string, unknown>, message: string) => void

/** The part of a pino `Logger` the logging middleware uses; pino itself fits as is. */
export interface StructuredLogger {
  /** Successful publishes and handlings. */
  info: LogMethod
  /** Attempts that will be retried. */
  warn: LogMethod
  /** Failed publishes and dead letters. */
  error: LogMethod
  /** Dropped events; falls back to `info` when absent. */
  debug?: LogMethod
}

/** Options of `loggingMiddleware`. */
export interface LoggingMiddlewareOptions {
  /** A pino logger, or anything with the same `info/warn/error(fields, message)` methods. */
  logger: StructuredLogger
  /** Name of this service, written as `service` on every line. */
  service: string
  /** Level of the success lines; `debug` keeps busy services quiet. @default 'info' */
  successLevel?: 'info' | 'debug'
}

/**
 * One structured line per publish and per handling attempt, in Olive's shape: `service`,
 * `component` (`producer` or `consumer`), `event_type`, `event_id`, `topic`, `tenant_id`,
 * `correlation_id`, `trace_id` and `span_id` (from the active span, else the event's
 * `traceparent`), plus `group`, `attempt`, `outcome`, `duration_ms` and `err` where they apply.
 * @throws {ConfigurationError} without a logger or a service name.
 * @example
 * const bus = createEventBus({ transport, middleware: [otelMiddleware(), loggingMiddleware({ logger: pino(), service: 'hr' })] })
 */
export function loggingMiddleware(options: LoggingMiddlewareOptions): Middleware {
  const { logger, service } = options ?? ({} as LoggingMiddlewareOptions)
  if (
    logger === undefined ||
    typeof logger.info !== 'function' ||
    typeof logger.error !== 'function'
  ) {
    throw new ConfigurationError(
      'loggingMiddleware needs a logger with info/warn/error methods, e.g. pino()',
      {
        field: 'loggingMiddleware.logger',
      },
    )
  }
  if (typeof service !== 'string' || service.length === 0) {
    throw new ConfigurationError('loggingMiddleware needs the service name', {
      field: 'loggingMiddleware.service',
    })
  }
  const success = options.successLevel === 'debug' ? (logger.debug ?? logger.info) : logger.info
  const dropped = logger.debug ?? logger.info
  const call = (method: LogMethod, fields: Record<string, unknown>, message: string) =>
    method.call(logger, fields, message)

  async function publish(ctx: PublishContext, next: () => Promise<void>): Promise<void> {
    const started = performance.now()
    try {
      await next()
    } catch (error) {
      const fields = base(service, 'producer', ctx.topic, ctx.event)
      fields.duration_ms = elapsed(started)
      fields.err = error
      call(logger.error, fields, 'Event publish failed')
      throw error
    }
    // Read after next(): an inner otel middleware has written the traceparent by now.
    const fields = base(service, 'producer', ctx.topic, ctx.event)
    fields.duration_ms = elapsed(started)
    call(success, fields, 'Event published')
  }

  async function handle(ctx: HandleContext, next: () => Promise<Outcome>): Promise<Outcome> {
    const started = performance.now()
    let result: Outcome
    try {
      result = await next()
    } catch (error) {
      const fields = consumerFields(service, ctx, started, 'error')
      fields.err = error
      call(logger.error, fields, 'Event handling failed')
      throw error
    }
    const fields = consumerFields(service, ctx, started, result.kind)
    switch (result.kind) {
      case 'success':
        call(success, fields, 'Event handled')
        break
      case 'drop':
        if (result.reason !== undefined) fields.reason = result.reason
        call(dropped, fields, 'Event dropped')
        break
      case 'retry':
        if (result.delayMs !== undefined) fields.retry_delay_ms = result.delayMs
        if (result.error !== undefined) fields.err = result.error
        call(
          logger.warn,
          fields,
          `Event handling failed (attempt ${ctx.attempt} of ${ctx.maxAttempts}); will retry`,
        )
        break
      case 'dead-letter':
        fields.reason = result.reason
        if (result.error !== undefined) fields.err = result.error
        call(logger.error, fields, 'Event dead-lettered')
        break
    }
    return result
  }

  return { name: 'logging', publish, handle }
}

function consumerFields(
  service: string,
  ctx: HandleContext,
  started: number,
  outcome: string,
): Record<string, unknown> {
  const fields = base(service, 'consumer', ctx.topic, ctx.event)
  fields.group = ctx.group
  fields.attempt = ctx.attempt
  fields.outcome = outcome
  fields.duration_ms = elapsed(started)
  return fields
}

function base(
  service: string,
  component: string,
  topic: string,
  event: EventEnvelope,
): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    service,
    component,
    event_type: event.type,
    event_id: event.id,
    topic,
  }
  if (event.tenantid !== undefined) fields.tenant_id = event.tenantid
  if (event.correlationid !== undefined) fields.correlation_id = event.correlationid
  const span = traceOf(event)
  if (span !== undefined) {
    fields.trace_id = span.traceId
    fields.span_id = span.spanId
  }
  return fields
}

/**
 * The active span when it belongs to the event's trace (this middleware runs inside the otel
 * spans), else the producer span named by the event's `traceparent`.
 */
function traceOf(event: EventEnvelope): SpanContext | undefined {
  const carried = parseTraceparent(event.traceparent)
  const active = trace.getSpanContext(context.active())
  if (active === undefined || !isSpanContextValid(active)) return carried
  return carried === undefined || carried.traceId === active.traceId ? active : carried
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 1_000) / 1_000
}
