import { ConfigurationError, consoleLogger, type Middleware } from '@switchyard/core'
import { type Env, envReader } from '@switchyard/core/transport'
import { type LogMethod, loggingMiddleware, type StructuredLogger } from './logging-middleware.js'
import type { OtelMiddlewareOptions } from './options.js'
import { otelMiddleware } from './otel-middleware.js'

/** Options of `observabilityFromEnv`: what the environment cannot say. */
export interface ObservabilityFromEnvOptions {
  /** Where the log lines go when logging is on. @default consoleLogger('info') from core */
  logger?: StructuredLogger
  /** Providers, propagator and scope of `otelMiddleware` (the variables decide traces and metrics). */
  otel?: Omit<OtelMiddlewareOptions, 'traces' | 'metrics'>
  /** Level of the success lines. @default 'info' */
  successLevel?: 'info' | 'debug'
}

/**
 * Olive's observability switches as bus middleware, in the order they belong: `otelMiddleware`
 * (first, so the rest runs inside its spans) with `traces` from `EVENTS_TRACING_ENABLED` and
 * `metrics` from `EVENTS_METRICS_ENABLED` (both default on; left out when both are off), then
 * `loggingMiddleware` when `EVENTS_LOGGING_ENABLED` is on (default off): `service` from
 * `SERVICE_NAME`, and every line also carries `service_version` (`SERVICE_VERSION`) and
 * `environment` (`ENVIRONMENT`) when set. Span resources are the SDK's: give it
 * `observabilityResourceFromEnv()`.
 * @throws {ConfigurationError} naming a flag that is not a boolean, or `SERVICE_NAME` when
 * logging is on without it.
 * @example
 * const bus = createEventBus({ transport, source: 'hr', middleware: observabilityFromEnv(process.env, { logger: pino() }) })
 */
export function observabilityFromEnv(
  env: Env = process.env,
  options: ObservabilityFromEnvOptions = {},
): Middleware[] {
  const read = envReader(env)
  const traces = read.bool('EVENTS_TRACING_ENABLED') ?? true
  const metrics = read.bool('EVENTS_METRICS_ENABLED') ?? true
  const logging = read.bool('EVENTS_LOGGING_ENABLED') ?? false
  const middleware: Middleware[] = []
  if (traces || metrics) middleware.push(otelMiddleware({ ...options.otel, traces, metrics }))
  if (logging) {
    const service = read.string('SERVICE_NAME')
    if (service === undefined) {
      throw new ConfigurationError(
        'EVENTS_LOGGING_ENABLED is on and SERVICE_NAME is not set: every log line names its service; set SERVICE_NAME or turn logging off',
        { field: 'SERVICE_NAME' },
      )
    }
    const extra: Record<string, string> = {}
    const version = read.string('SERVICE_VERSION')
    const environment = read.string('ENVIRONMENT')
    if (version !== undefined) extra.service_version = version
    if (environment !== undefined) extra.environment = environment
    const logger = withFields(options.logger ?? consoleLogger('info'), extra)
    const successLevel = options.successLevel ?? 'info'
    middleware.push(loggingMiddleware({ logger, service, successLevel }))
  }
  return middleware
}

/**
 * The OpenTelemetry resource attributes Olive's variables name, for the SDK you register
 * (`resourceFromAttributes(observabilityResourceFromEnv())`): `service.name` (`SERVICE_NAME`),
 * `service.version` (`SERVICE_VERSION`), `deployment.environment.name` (`ENVIRONMENT`). Only the
 * set ones.
 * @example const resource = resourceFromAttributes(observabilityResourceFromEnv())
 */
export function observabilityResourceFromEnv(env: Env = process.env): Record<string, string> {
  const read = envReader(env)
  const attributes: Record<string, string> = {}
  const names = {
    'service.name': 'SERVICE_NAME',
    'service.version': 'SERVICE_VERSION',
    'deployment.environment.name': 'ENVIRONMENT',
  }
  for (const [attribute, variable] of Object.entries(names)) {
    const value = read.string(variable)
    if (value !== undefined) attributes[attribute] = value
  }
  return attributes
}

/** `logger` with `extra` merged into the fields of every line (the line's own fields win). */
function withFields(logger: StructuredLogger, extra: Record<string, string>): StructuredLogger {
  if (Object.keys(extra).length === 0) return logger
  const wrap =
    (method: LogMethod): LogMethod =>
    (fields, message) =>
      method.call(logger, { ...extra, ...fields }, message)
  const wrapped: StructuredLogger = {
    info: wrap(logger.info),
    warn: wrap(logger.warn),
    error: wrap(logger.error),
  }
  if (logger.debug !== undefined) wrapped.debug = wrap(logger.debug)
  return wrapped
}
