import { context, metrics, propagation, trace } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { memoryTransport } from '@switchyard/adapter-memory'
import { createEvent, createEventBus, type EventEnvelope } from '@switchyard/core'
import { describe, expect, it } from 'vitest'
import { points, testSdk, until, useAsyncContext } from '../test/sdk.js'
import { METRIC } from './conventions.js'
import { otelMiddleware } from './otel-middleware.js'

// This file starts with nothing registered: the API is the no-op one.
describe('otelMiddleware without and then with a global SDK', () => {
  it('no-op - without an SDK events pass unchanged and handlers run', async () => {
    const mw = otelMiddleware()
    // Nothing registered: the middleware says it is idle, so the bus keeps its fast path.
    expect(mw.enabled?.()).toBe(false)
    const event = createEvent({ type: 't', source: 's' })
    const ctx = { topic: 'a', event, transport: 'memory' }
    await mw.publish!(ctx, async () => undefined)
    expect(ctx.event).toBe(event) // not even copied
    const bus = createEventBus({ transport: memoryTransport(), source: 's', middleware: [mw] })
    const seen: EventEnvelope[] = []
    await bus.subscribe('a', (e) => void seen.push(e))
    await bus.publish('a', { type: 't' })
    await until(() => seen.length === 1)
    await bus.close()
    expect(seen[0]!.traceparent).toBeUndefined()
  })

  it('no-op - with only a context manager an incoming trace context flows to what the handler publishes', async () => {
    useAsyncContext()
    // A context manager alone is reason enough to run: trace context must flow through handlers.
    expect(otelMiddleware().enabled?.()).toBe(true)
    const bus = createEventBus({
      transport: memoryTransport(),
      source: 's',
      middleware: [otelMiddleware()],
    })
    const forwarded: EventEnvelope[] = []
    await bus.subscribe('a', async (event) => {
      await bus.publish('b', { type: 'forwarded', data: event.id })
    })
    await bus.subscribe('b', (e) => void forwarded.push(e))
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    await bus.publish('a', { type: 't', traceparent, tracestate: 'k=v' })
    await until(() => forwarded.length === 1)
    await bus.close()
    expect(forwarded[0]).toMatchObject({ traceparent, tracestate: 'k=v' })
  })

  it('global SDK - middleware created before registration picks up providers registered later', async () => {
    const mw = otelMiddleware()
    const bus = createEventBus({ transport: memoryTransport(), source: 's', middleware: [mw] })
    const seen: EventEnvelope[] = []
    await bus.subscribe('a', (e) => void seen.push(e))

    const sdk = testSdk() // registers the async context manager
    trace.setGlobalTracerProvider(sdk.tracerProvider)
    metrics.setGlobalMeterProvider(sdk.meterProvider)
    try {
      // No global propagator registered: the built-in W3C one carries the context.
      expect(propagation.fields()).toEqual([])
      await bus.publish('a', { type: 't' })
      propagation.setGlobalPropagator(new W3CTraceContextPropagator())
      await bus.publish('a', { type: 't' })
      await until(() => sdk.finished().filter((s) => s.name === 'process a').length === 2)
      for (const process of sdk.finished().filter((s) => s.name === 'process a')) {
        const send = sdk
          .finished()
          .find((s) => s.spanContext().spanId === process.parentSpanContext?.spanId)
        expect(send?.name).toBe('send a')
      }
      expect(seen.map((e) => e.traceparent?.slice(0, 3))).toEqual(['00-', '00-'])
      const sent = points(await sdk.metrics(), METRIC.sentMessages)
      expect(sent.map((p) => p.value)).toEqual([2])
    } finally {
      await bus.close()
      trace.disable()
      metrics.disable()
      propagation.disable()
      context.disable()
      await sdk.shutdown()
    }
  })
})
