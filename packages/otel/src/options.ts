import type { MeterProvider, TextMapPropagator, TracerProvider } from '@opentelemetry/api'
import { ConfigurationError } from '@switchyard/core'

/** Options of `otelMiddleware`. */
export interface OtelMiddlewareOptions {
  /**
   * Where spans go. @default the global tracer provider (a no-op until an SDK registers one; the
   * middleware picks the SDK up whenever it is registered)
   */
  tracerProvider?: TracerProvider
  /** Where measurements go. @default the global meter provider, re-read on every event */
  meterProvider?: MeterProvider
  /**
   * How trace context travels in the envelope.
   * @default the global propagator when one is registered, else W3C trace context
   */
  propagator?: TextMapPropagator
  /** Create spans and propagate context. @default true */
  traces?: boolean
  /** Record the messaging metrics. @default true */
  metrics?: boolean
  /** Instrumentation scope name of the tracer and meter. @default '@switchyard/otel' */
  scope?: string
  /**
   * Label the messaging metrics with each event's `tenantid` (as `switchyard.tenant_id`), for
   * per-tenant rates, durations, retries and dead letters. Off by default: every tenant
   * multiplies the series of every topic and group, so turn it on only for a bounded set of
   * tenants. Spans carry the tenant either way. @default false
   */
  tenantAttribute?: boolean
}

/** Options with defaults applied. */
export interface ResolvedOtelOptions {
  tracerProvider: TracerProvider | undefined
  meterProvider: MeterProvider | undefined
  propagator: TextMapPropagator | undefined
  traces: boolean
  metrics: boolean
  scope: string
  tenantAttribute: boolean
}

const KEYS = [
  'tracerProvider',
  'meterProvider',
  'propagator',
  'traces',
  'metrics',
  'scope',
  'tenantAttribute',
]

/**
 * Validates options and applies defaults.
 * @throws {ConfigurationError} for an unknown option or a value of the wrong kind.
 */
export function resolveOtelOptions(options: OtelMiddlewareOptions): ResolvedOtelOptions {
  if (options === null || typeof options !== 'object') {
    throw new ConfigurationError('otelMiddleware options must be an object', {
      field: 'otelMiddleware',
    })
  }
  for (const key of Object.keys(options)) {
    if (!KEYS.includes(key)) {
      throw new ConfigurationError(
        `Unknown option otelMiddleware.${key}; expected one of: ${KEYS.join(', ')}`,
        {
          field: `otelMiddleware.${key}`,
        },
      )
    }
  }
  requireMethod(options.tracerProvider, 'getTracer', 'tracerProvider')
  requireMethod(options.meterProvider, 'getMeter', 'meterProvider')
  requireMethod(options.propagator, 'inject', 'propagator')
  const scope = options.scope ?? '@switchyard/otel'
  if (typeof scope !== 'string' || scope.length === 0) {
    throw new ConfigurationError('otelMiddleware.scope must be a non-empty string', {
      field: 'otelMiddleware.scope',
    })
  }
  return {
    tracerProvider: options.tracerProvider,
    meterProvider: options.meterProvider,
    propagator: options.propagator,
    traces: flag(options.traces, 'traces'),
    metrics: flag(options.metrics, 'metrics'),
    scope,
    tenantAttribute: flag(options.tenantAttribute, 'tenantAttribute', false),
  }
}

function requireMethod(value: unknown, method: string, field: string): void {
  if (value === undefined) return
  if (value === null || typeof (value as Record<string, unknown>)[method] !== 'function') {
    throw new ConfigurationError(`otelMiddleware.${field} must have a ${method}() method`, {
      field: `otelMiddleware.${field}`,
    })
  }
}

function flag(value: unknown, field: string, fallback = true): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') {
    throw new ConfigurationError(`otelMiddleware.${field} must be true or false`, {
      field: `otelMiddleware.${field}`,
    })
  }
  return value
}
