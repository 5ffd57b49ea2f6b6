import {
  type Context,
  createTraceState,
  isSpanContextValid,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api'

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/
const FIELDS = ['traceparent', 'tracestate']

/**
 * A W3C Trace Context propagator that needs nothing but the API. It is the fallback when no
 * global propagator is registered: `BasicTracerProvider` (SDK 2) no longer registers one, and
 * without it a consumer would silently start a new trace.
 */
export class W3CTraceContext implements TextMapPropagator {
  /** Writes `traceparent` (and `tracestate`) for the span in `context`, if it is valid. */
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const span = trace.getSpanContext(context)
    if (span === undefined || !isSpanContextValid(span)) return
    const flags = (span.traceFlags & 0xff).toString(16).padStart(2, '0')
    setter.set(carrier, 'traceparent', `00-${span.traceId}-${span.spanId}-${flags}`)
    const state = span.traceState?.serialize()
    if (state !== undefined && state.length > 0) setter.set(carrier, 'tracestate', state)
  }

  /** Returns `context` with the remote span described by the carrier, or `context` unchanged. */
  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const parent = parseTraceparent(first(getter.get(carrier, 'traceparent')))
    if (parent === undefined) return context
    const state = first(getter.get(carrier, 'tracestate'))
    if (state !== undefined && state.length > 0) parent.traceState = createTraceState(state)
    return trace.setSpanContext(context, parent)
  }

  /** The carrier keys this propagator uses. */
  fields(): string[] {
    return FIELDS
  }
}

/**
 * Parses a W3C `traceparent` value; `undefined` for anything malformed, version `ff`, or all-zero
 * ids, as the specification asks.
 */
export function parseTraceparent(value: string | undefined): SpanContext | undefined {
  if (value === undefined) return undefined
  const match = TRACEPARENT.exec(value.trim().toLowerCase())
  if (match === null) return undefined
  const [, version, traceId, spanId, flags, rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ]
  // Version 00 has exactly four fields; later versions may append more, which we ignore.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined
  const span: SpanContext = {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16),
    isRemote: true,
  }
  return isSpanContextValid(span) ? span : undefined
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}
