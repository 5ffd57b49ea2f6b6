import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  TraceFlags,
  trace,
} from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { createEvent } from '@switchyard/core'
import { describe, expect, it } from 'vitest'
import { extractFrom, injectInto } from './propagation.js'
import { parseTraceparent, W3CTraceContext } from './w3c.js'

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const SPAN = '00f067aa0ba902b7'

describe('W3CTraceContext', () => {
  it('traceparent - valid values parse and malformed ones are refused', () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)).toEqual({
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    })
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-00-future`)?.traceFlags).toBe(0)
    for (const bad of [
      undefined,
      '',
      `00-${TRACE}-${SPAN}-01-extra`,
      `ff-${TRACE}-${SPAN}-01`,
      `00-${'0'.repeat(32)}-${SPAN}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `00-${TRACE.slice(1)}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}-0x`,
    ]) {
      expect(parseTraceparent(bad), String(bad)).toBeUndefined()
    }
  })

  it('interop - what it injects the SDK propagator extracts, and the other way round', () => {
    const ours = new W3CTraceContext()
    const sdk = new W3CTraceContextPropagator()
    const span = { traceId: TRACE, spanId: SPAN, traceFlags: 1, isRemote: false }
    const ctx = trace.setSpanContext(ROOT_CONTEXT, span)
    const a: Record<string, string> = {}
    ours.inject(ctx, a, defaultTextMapSetter)
    const b: Record<string, string> = {}
    sdk.inject(ctx, b, defaultTextMapSetter)
    expect(a).toEqual(b)
    b.tracestate = 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7'
    const back = trace.getSpanContext(ours.extract(ROOT_CONTEXT, b, defaultTextMapGetter))!
    const theirs = trace.getSpanContext(sdk.extract(ROOT_CONTEXT, b, defaultTextMapGetter))!
    expect(back.traceId).toBe(theirs.traceId)
    expect(back.spanId).toBe(theirs.spanId)
    expect(back.traceFlags).toBe(theirs.traceFlags)
    expect(back.traceState?.serialize()).toBe(theirs.traceState?.serialize())
    // And a context with a trace state writes it back out.
    const c: Record<string, string> = {}
    ours.inject(trace.setSpanContext(ROOT_CONTEXT, back), c, defaultTextMapSetter)
    expect(c.tracestate).toBe('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7')
  })

  it('envelope - inject writes envelope attributes and valid extension names only', () => {
    const event = createEvent({ type: 't', source: 's', extensions: { replyto: 'x' } })
    const span = { traceId: TRACE, spanId: SPAN, traceFlags: 1, isRemote: false }
    const ctx = trace.setSpanContext(ROOT_CONTEXT, span)
    const out = injectInto(event, ctx, {
      inject: (_c, carrier, setter) => {
        setter.set(carrier, 'traceparent', 'tp')
        setter.set(carrier, 'tracestate', 'ts')
        setter.set(carrier, 'baggage', 'k=v')
        setter.set(carrier, 'x-b3-traceid', 'dropped')
        setter.set(carrier, 'id', 'never overwrites the event id')
      },
      extract: (c) => c,
      fields: () => [],
    })
    expect(out).not.toBe(event)
    expect(out).toMatchObject({ id: event.id, traceparent: 'tp', tracestate: 'ts' })
    expect(out.extensions).toEqual({ replyto: 'x', baggage: 'k=v' })
    expect(event.traceparent).toBeUndefined() // the original is not mutated
    const keys: string[] = []
    extractFrom(out, ROOT_CONTEXT, {
      inject: () => undefined,
      extract: (c, carrier, getter) => {
        keys.push(...getter.keys(carrier))
        return c
      },
      fields: () => [],
    })
    expect(keys.sort()).toEqual(['baggage', 'replyto', 'traceparent', 'tracestate'])
  })
})
