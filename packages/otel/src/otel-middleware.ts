import {
  context,
  createContextKey,
  isSpanContextValid,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  type TextMapPropagator,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api'
import type { HandleContext, Middleware, Outcome, PublishContext } from '@switchyard/core'
import { ATTR, destinationLabel } from './conventions.js'
import { type Instruments, MessagingMetrics } from './metrics.js'
import { type OtelMiddlewareOptions, resolveOtelOptions } from './options.js'
import { extractFrom, injectInto, pickPropagator } from './propagation.js'
import {
  describeOutcome,
  errorType,
  outcomeErrorType,
  processAttributes,
  recordFailure,
  sendAttributes,
} from './span-attributes.js'

const PROBE = createContextKey('switchyard.probe')
const PROBE_CONTEXT = ROOT_CONTEXT.setValue(PROBE, true)

/**
 * Whether a context manager is registered: the API's default one keeps nothing, and with it
 * this probe is a plain function call.
 */
function hasContextManager(): boolean {
  return context.with(PROBE_CONTEXT, () => context.active().getValue(PROBE) === true)
}

// @opentelemetry/api 1.x keeps every registered global (tracer and meter providers, context
// manager, propagator, diag logger) in one object under this key, created by the first
// registration. While it is absent nothing can be on, and one property read says so.
const API_GLOBALS = Symbol.for('opentelemetry.js.api.1')
function nothingRegistered(): boolean {
  return (globalThis as Record<symbol, unknown>)[API_GLOBALS] === undefined
}

// The API hands out this instance as the delegate of its proxy until an SDK registers one.
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate()

/**
 * Traces and measures publishing and handling per the OpenTelemetry messaging conventions: a
 * PRODUCER span `send <topic>` per published event, whose context travels in the envelope's
 * `traceparent`/`tracestate`, and a CONSUMER span `process <topic>` per handling attempt, child of
 * the producer's span even in another process. While no SDK is registered it only passes an
 * existing trace context along, and costs a few global look-ups per event.
 * @throws {ConfigurationError} for unknown or malformed options.
 * @example
 * const bus = createEventBus({ transport, source: 'hr', middleware: [otelMiddleware()] })
 */
export function otelMiddleware(options: OtelMiddlewareOptions = {}): Middleware {
  const resolved = resolveOtelOptions(options)
  const { propagator, traces, tracerProvider } = resolved
  const configured =
    traces && tracerProvider !== undefined ? tracerProvider.getTracer(resolved.scope) : undefined
  const meter = resolved.metrics
    ? new MessagingMetrics(resolved.meterProvider, resolved.scope, resolved.tenantAttribute)
    : undefined
  let globalProvider: TracerProvider | undefined
  let globalTracer: Tracer | undefined

  /**
   * The tracer to use now; `undefined` while the global provider is still the no-op one. The
   * global provider is re-read on every event: an SDK registered through another copy of the API
   * replaces the global object instead of feeding the proxy this copy handed out.
   */
  const sdkTracer = (): Tracer | undefined => {
    if (!traces || configured !== undefined) return configured
    const global = trace.getTracerProvider()
    if (global instanceof ProxyTracerProvider && global.getDelegate() === NOOP_TRACER_PROVIDER) {
      return undefined
    }
    if (global !== globalProvider) {
      globalProvider = global
      globalTracer = global.getTracer(resolved.scope)
    }
    return globalTracer
  }

  function publish(ctx: PublishContext, next: () => Promise<void>): Promise<void> {
    const m = meter?.current()
    const t = sdkTracer()
    // No SDK at all: no extra async frame, only an existing trace context is passed on.
    if (m === undefined && t === undefined) {
      if (traces) passOn(ctx, propagator)
      return next()
    }
    return measuredPublish(ctx, next, t, m)
  }

  async function measuredPublish(
    ctx: PublishContext,
    next: () => Promise<void>,
    t: Tracer | undefined,
    m: Instruments | undefined,
  ): Promise<void> {
    const started = m === undefined ? 0 : performance.now()
    try {
      if (t !== undefined) await tracedPublish(t, ctx, next, propagator)
      else {
        if (traces) passOn(ctx, propagator)
        await next()
      }
    } catch (error) {
      if (m !== undefined)
        meter!.sent(
          m,
          ctx.transport,
          destinationLabel(ctx.topic, ctx.temporary),
          seconds(started),
          errorType(error),
          ctx.event.tenantid,
        )
      throw error
    }
    if (m !== undefined)
      meter!.sent(
        m,
        ctx.transport,
        destinationLabel(ctx.topic, ctx.temporary),
        seconds(started),
        undefined,
        ctx.event.tenantid,
      )
  }

  function handle(ctx: HandleContext, next: () => Promise<Outcome>): Promise<Outcome> {
    const m = meter?.current()
    const t = sdkTracer()
    if (m === undefined && t === undefined) {
      // No SDK, but keep the caller's trace flowing to whatever the handler publishes.
      return traces && carriesContext(ctx) ? context.with(parentOf(ctx, propagator), next) : next()
    }
    return measuredHandle(ctx, next, t, m)
  }

  async function measuredHandle(
    ctx: HandleContext,
    next: () => Promise<Outcome>,
    t: Tracer | undefined,
    m: Instruments | undefined,
  ): Promise<Outcome> {
    const started = m === undefined ? 0 : performance.now()
    let result: Outcome
    try {
      if (t !== undefined) result = await tracedHandle(t, ctx, next, propagator)
      else if (traces && carriesContext(ctx))
        result = await context.with(parentOf(ctx, propagator), next)
      else result = await next()
    } catch (error) {
      if (m !== undefined) record(meter!, m, ctx, started, 'error', errorType(error))
      throw error
    }
    if (m !== undefined) record(meter!, m, ctx, started, result.kind, outcomeErrorType(result))
    return result
  }

  // With no tracer SDK, no meter and no context manager there is nothing to do: the bus then
  // skips this middleware and keeps its fast path.
  const ownProviders = configured !== undefined || resolved.meterProvider !== undefined
  const enabled = (): boolean => {
    if (!ownProviders && nothingRegistered()) return false
    return (
      meter?.current() !== undefined || sdkTracer() !== undefined || (traces && hasContextManager())
    )
  }
  return { name: 'otel', publish, handle, enabled }
}

async function tracedPublish(
  tracer: Tracer,
  ctx: PublishContext,
  next: () => Promise<void>,
  propagator: TextMapPropagator | undefined,
): Promise<void> {
  const active = context.active()
  const use = pickPropagator(propagator)
  // No active span but a traceparent already set (an outbox relay, a forwarder): continue that.
  const parent =
    trace.getSpan(active) === undefined && ctx.event.traceparent !== undefined
      ? extractFrom(ctx.event, active, use)
      : active
  const span = tracer.startSpan(
    `send ${destinationLabel(ctx.topic, ctx.temporary)}`,
    { kind: SpanKind.PRODUCER, attributes: sendAttributes(ctx) },
    parent,
  )
  const withSpan = trace.setSpan(parent, span)
  ctx.event = injectInto(ctx.event, withSpan, use)
  try {
    await context.with(withSpan, next)
  } catch (error) {
    recordFailure(span, error)
    throw error
  } finally {
    span.end()
  }
}

async function tracedHandle(
  tracer: Tracer,
  ctx: HandleContext,
  next: () => Promise<Outcome>,
  propagator: TextMapPropagator | undefined,
): Promise<Outcome> {
  // The consumer span continues the producer's trace, never whatever context happened to be
  // active when the subscription's pull loop started.
  const parent = carriesContext(ctx) ? parentOf(ctx, propagator) : ROOT_CONTEXT
  const span = tracer.startSpan(
    `process ${destinationLabel(ctx.topic, ctx.temporary)}`,
    { kind: SpanKind.CONSUMER, attributes: processAttributes(ctx) },
    parent,
  )
  let result: Outcome
  try {
    result = await context.with(trace.setSpan(parent, span), next)
  } catch (error) {
    // A middleware further in threw; the bus classifies it, we only observe.
    recordFailure(span, error)
    span.setAttribute(ATTR.outcome, 'error')
    span.end()
    throw error
  }
  describeOutcome(span, result, ctx.attempt)
  span.end()
  return result
}

/** Without an SDK: still write an active (remote or manual) context into the event. */
function passOn(ctx: PublishContext, propagator: TextMapPropagator | undefined): void {
  const active = context.active()
  const span = trace.getSpanContext(active)
  if (span !== undefined && isSpanContextValid(span)) {
    ctx.event = injectInto(ctx.event, active, pickPropagator(propagator))
  }
}

function carriesContext(ctx: HandleContext): boolean {
  return ctx.event.traceparent !== undefined || ctx.event.extensions !== undefined
}

function parentOf(ctx: HandleContext, propagator: TextMapPropagator | undefined) {
  return extractFrom(ctx.event, ROOT_CONTEXT, pickPropagator(propagator))
}

function record(
  meter: MessagingMetrics,
  m: Instruments,
  ctx: HandleContext,
  started: number,
  result: Outcome['kind'] | 'error',
  error: string | undefined,
): void {
  meter.processed(
    m,
    ctx.transport,
    destinationLabel(ctx.topic, ctx.temporary),
    ctx.group,
    seconds(started),
    result,
    error,
    ctx.event.tenantid,
  )
}

function seconds(started: number): number {
  return (performance.now() - started) / 1_000
}
