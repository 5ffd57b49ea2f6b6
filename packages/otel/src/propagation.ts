import {
  type Context,
  propagation,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api'
import type { EventEnvelope } from '@switchyard/core'
import { W3CTraceContext } from './w3c.js'

const EXTENSION_NAME = /^[a-z0-9]{1,20}$/
const RESERVED = new Set([
  'specversion',
  'id',
  'source',
  'type',
  'time',
  'subject',
  'datacontenttype',
  'dataschema',
  'data',
  'tenantid',
  'correlationid',
  'causationid',
  'partitionkey',
  'attempt',
])
const fallback = new W3CTraceContext()

/**
 * The propagator to use for one call: the configured one, else the global one when an SDK
 * registered it, else W3C trace context. Decided per call because the SDK is often registered
 * after the bus (and its middleware) was created.
 */
export function pickPropagator(configured: TextMapPropagator | undefined): TextMapPropagator {
  if (configured !== undefined) return configured
  return propagation.fields().length > 0 ? propagation : fallback
}

const setter: TextMapSetter<Record<string, string>> = {
  set(carrier, key, value) {
    carrier[key] = value
  },
}

const getter: TextMapGetter<EventEnvelope> = {
  keys(event) {
    const keys = event.extensions === undefined ? [] : Object.keys(event.extensions)
    if (event.traceparent !== undefined) keys.push('traceparent')
    if (event.tracestate !== undefined) keys.push('tracestate')
    return keys
  },
  get(event, key) {
    if (key === 'traceparent') return event.traceparent
    if (key === 'tracestate') return event.tracestate
    return event.extensions?.[key]
  },
}

/**
 * Returns the event with the context's propagation fields written into it: `traceparent` and
 * `tracestate` into the envelope's own attributes, anything else a propagator writes (`baggage`,
 * `b3`) into `extensions` when the name is a valid CloudEvents extension name. Returns the same
 * object when there is nothing to write, so the no-SDK path allocates nothing.
 */
export function injectInto(
  event: EventEnvelope,
  ctx: Context,
  propagator: TextMapPropagator,
): EventEnvelope {
  const carrier: Record<string, string> = {}
  propagator.inject(ctx, carrier, setter)
  let next: EventEnvelope | undefined
  for (const key in carrier) {
    const value = carrier[key]!
    next ??= { ...event }
    if (key === 'traceparent') next.traceparent = value
    else if (key === 'tracestate') next.tracestate = value
    else if (EXTENSION_NAME.test(key) && !RESERVED.has(key)) {
      next.extensions = { ...next.extensions, [key]: value }
    }
  }
  return next ?? event
}

/** The context carried by an event (its producer's span), on top of `base`. */
export function extractFrom(
  event: EventEnvelope,
  base: Context,
  propagator: TextMapPropagator,
): Context {
  return propagator.extract(base, event, getter)
}
