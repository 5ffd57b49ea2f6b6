import {
  type Attributes,
  context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api'
import type { HandleContext, Middleware, Outcome, PublishContext } from '@switchyard/core'
import { ATTR, destinationLabel, INBOX_PREFIX, SPAN_EVENT } from './conventions.js'
import { MessagingMetrics } from './metrics.js'
import { type OtelMiddlewareOptions, resolveOtelOptions } from './options.js'
import { extractFrom, injectInto, pickPropagator } from './propagation.js'

/**
 * Traces and measures publishing and handling per the OpenTelemetry messaging conventions: a
 * PRODUCER span `send <topic>` per published event, whose context travels in the envelope's
 * `traceparent`/`tracestate`, and a CONSUMER span `process <topic>` per handling attempt, child of
 * the producer's span even in another process. Without an SDK it costs a no-op span per event.
 * @throws {ConfigurationError} for unknown or malformed options.
 * @example
 * const bus = createEventBus({ transport, source: 'hr', middleware: [otelMiddleware()] })
 */
export function otelMiddleware(options: OtelMiddlewareOptions = {}): Middleware {
  const resolved = resolveOtelOptions(options)
  const tracer: Tracer | undefined = resolved.traces
    ? (resolved.tracerProvider ?? trace.getTracerProvider()).getTracer(resolved.scope)
    : undefined
  const meter = resolved.metrics
    ? new MessagingMetrics(resolved.meterProvider, resolved.scope)
    : undefined
  const { propagator } = resolved

  async function publish(ctx: PublishContext, next: () => Promise<void>): Promise<void> {
    const started = performance.now()
    let span: Span | undefined
    if (tracer !== undefined) {
      const active = context.active()
      const use = pickPropagator(propagator)
      // No active span but a traceparent already set (an outbox relay, a forwarder): continue that.
      const parent =
        trace.getSpan(active) === undefined && ctx.event.traceparent !== undefined
          ? extractFrom(ctx.event, active, use)
          : active
      span = tracer.startSpan(
        `send ${destinationLabel(ctx.topic)}`,
        { kind: SpanKind.PRODUCER, attributes: sendAttributes(ctx) },
        parent,
      )
      const withSpan = trace.setSpan(parent, span)
      ctx.event = injectInto(ctx.event, withSpan, use)
      try {
        await context.with(withSpan, next)
      } catch (error) {
        fail(span, error)
        meter?.sent(ctx.transport, ctx.topic, seconds(started), errorType(error))
        span.end()
        throw error
      }
      span.end()
    } else {
      try {
        await next()
      } catch (error) {
        meter?.sent(ctx.transport, ctx.topic, seconds(started), errorType(error))
        throw error
      }
    }
    meter?.sent(ctx.transport, ctx.topic, seconds(started), undefined)
  }

  async function handle(ctx: HandleContext, next: () => Promise<Outcome>): Promise<Outcome> {
    const started = performance.now()
    let span: Span | undefined
    let result: Outcome
    try {
      if (tracer === undefined) {
        result = await next()
      } else {
        // The consumer span continues the producer's trace, never whatever context happened to be
        // active when the subscription's pull loop started.
        const event = ctx.event
        const parent =
          event.traceparent === undefined && event.extensions === undefined
            ? ROOT_CONTEXT
            : extractFrom(event, ROOT_CONTEXT, pickPropagator(propagator))
        span = tracer.startSpan(
          `process ${destinationLabel(ctx.topic)}`,
          { kind: SpanKind.CONSUMER, attributes: processAttributes(ctx) },
          parent,
        )
        result = await context.with(trace.setSpan(parent, span), next)
      }
    } catch (error) {
      // A middleware further in threw; the bus classifies it, we only observe.
      if (span !== undefined) {
        fail(span, error)
        span.setAttribute(ATTR.outcome, 'error')
        span.end()
      }
      meter?.processed(
        ctx.transport,
        ctx.topic,
        ctx.group,
        seconds(started),
        'error',
        errorType(error),
      )
      throw error
    }
    const failure = outcomeError(result)
    if (span !== undefined) {
      describe(span, result, ctx.attempt)
      span.end()
    }
    meter?.processed(ctx.transport, ctx.topic, ctx.group, seconds(started), result.kind, failure)
    return result
  }

  return { name: 'otel', publish, handle }
}

function sendAttributes(ctx: PublishContext): Attributes {
  const { event } = ctx
  const attrs: Attributes = {
    [ATTR.messagingSystem]: ctx.transport,
    [ATTR.destinationName]: ctx.topic,
    [ATTR.operationType]: 'send',
    [ATTR.operationName]: 'send',
    [ATTR.messageId]: event.id,
    [ATTR.eventType]: event.type,
    [ATTR.eventSource]: event.source,
  }
  return common(attrs, ctx.topic, ctx.transport, ctx.event)
}

function processAttributes(ctx: HandleContext): Attributes {
  const { event } = ctx
  const attrs: Attributes = {
    [ATTR.messagingSystem]: ctx.transport,
    [ATTR.destinationName]: ctx.topic,
    [ATTR.operationType]: 'process',
    [ATTR.operationName]: 'process',
    [ATTR.messageId]: event.id,
    [ATTR.consumerGroup]: ctx.group,
    [ATTR.eventType]: event.type,
    [ATTR.eventSource]: event.source,
    [ATTR.attempt]: ctx.attempt,
    [ATTR.maxAttempts]: ctx.maxAttempts,
  }
  return common(attrs, ctx.topic, ctx.transport, event)
}

function common(
  attrs: Attributes,
  topic: string,
  transport: string,
  event: PublishContext['event'],
): Attributes {
  if (event.correlationid !== undefined) attrs[ATTR.conversationId] = event.correlationid
  if (event.subject !== undefined) attrs[ATTR.eventSubject] = event.subject
  if (event.tenantid !== undefined) attrs[ATTR.tenant] = event.tenantid
  if (transport === 'kafka' && event.partitionkey !== undefined)
    attrs[ATTR.kafkaKey] = event.partitionkey
  if (topic.startsWith(INBOX_PREFIX)) attrs[ATTR.destinationTemporary] = true
  return attrs
}

function describe(span: Span, result: Outcome, attempt: number): void {
  span.setAttribute(ATTR.outcome, result.kind)
  switch (result.kind) {
    case 'success':
      return
    case 'drop':
      if (result.reason !== undefined) span.setAttribute(ATTR.reason, result.reason)
      return
    case 'retry': {
      const attrs: Attributes = { [ATTR.attempt]: attempt }
      if (result.delayMs !== undefined) attrs[ATTR.retryDelay] = result.delayMs
      if (result.error !== undefined) fail(span, result.error)
      span.addEvent(SPAN_EVENT.retry, attrs)
      return
    }
    case 'dead-letter':
      span.setAttribute(ATTR.reason, result.reason)
      if (result.error !== undefined) fail(span, result.error)
      else {
        span.setAttribute(ATTR.errorType, '_OTHER')
        span.setStatus({ code: SpanStatusCode.ERROR, message: result.reason })
      }
      span.addEvent(SPAN_EVENT.deadLetter, {
        [ATTR.reason]: result.reason,
        [ATTR.attempt]: attempt,
      })
      return
  }
}

function fail(span: Span, error: unknown): void {
  const err = error instanceof Error ? error : new Error(String(error))
  span.recordException(err)
  span.setAttribute(ATTR.errorType, err.name)
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message })
}

function outcomeError(result: Outcome): string | undefined {
  if (result.kind === 'retry') return result.error === undefined ? undefined : result.error.name
  if (result.kind === 'dead-letter') return result.error?.name ?? '_OTHER'
  return undefined
}

function errorType(error: unknown): string {
  return error instanceof Error ? error.name : '_OTHER'
}

function seconds(started: number): number {
  return (performance.now() - started) / 1_000
}
