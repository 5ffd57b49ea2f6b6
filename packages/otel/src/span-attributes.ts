import { type Attributes, type Span, SpanStatusCode } from '@opentelemetry/api'
import type { EventEnvelope, HandleContext, Outcome, PublishContext } from '@switchyard/core'
import { ATTR, SPAN_EVENT } from './conventions.js'

/** Attributes of a PRODUCER `send` span, known before it starts (samplers see them). */
export function sendAttributes(ctx: PublishContext): Attributes {
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
  return optional(attrs, ctx.temporary === true, ctx.transport, event)
}

/** Attributes of a CONSUMER `process` span for one attempt. */
export function processAttributes(ctx: HandleContext): Attributes {
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
  return optional(attrs, ctx.temporary === true, ctx.transport, event)
}

// Absent values are left out rather than set to undefined, which the SDK warns about.
function optional(
  attrs: Attributes,
  temporary: boolean,
  transport: string,
  event: EventEnvelope,
): Attributes {
  if (event.correlationid !== undefined) attrs[ATTR.conversationId] = event.correlationid
  if (event.subject !== undefined) attrs[ATTR.eventSubject] = event.subject
  if (event.tenantid !== undefined) attrs[ATTR.tenant] = event.tenantid
  if (transport === 'kafka' && event.partitionkey !== undefined)
    attrs[ATTR.kafkaKey] = event.partitionkey
  if (temporary) attrs[ATTR.destinationTemporary] = true
  return attrs
}

/** Writes the outcome of an attempt onto its span: status, exception, retry or dead-letter event. */
export function describeOutcome(span: Span, result: Outcome, attempt: number): void {
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
      // A retry requested without an error (`outcome.retry()`) is flow control, not a failure.
      if (result.error !== undefined) recordFailure(span, result.error)
      span.addEvent(SPAN_EVENT.retry, attrs)
      return
    }
    case 'dead-letter':
      span.setAttribute(ATTR.reason, result.reason)
      if (result.error !== undefined) recordFailure(span, result.error)
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

/** Error status, `error.type` and the standard `exception` event. */
export function recordFailure(span: Span, error: unknown): void {
  const err = error instanceof Error ? error : new Error(String(error))
  span.recordException(err)
  span.setAttribute(ATTR.errorType, err.name)
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message })
}

/** `error.type` of an outcome for the metrics, `undefined` when it is not a failure. */
export function outcomeErrorType(result: Outcome): string | undefined {
  if (result.kind === 'retry') return result.error?.name
  if (result.kind === 'dead-letter') return result.error?.name ?? '_OTHER'
  return undefined
}

/** `error.type` of a thrown value. */
export function errorType(error: unknown): string {
  return error instanceof Error ? error.name : '_OTHER'
}
