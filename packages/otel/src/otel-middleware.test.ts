import { SpanKind, SpanStatusCode, type TextMapPropagator, trace } from '@opentelemetry/api'
import { createMemoryBroker, memoryTransport } from '@switchyard/adapter-memory'
import {
  ConfigurationError,
  constant,
  createEvent,
  createEventBus,
  type EventEnvelope,
  outcome,
} from '@switchyard/core'
import { afterEach, describe, expect, it } from 'vitest'
import { testSdk, until } from '../test/sdk.js'
import { otelMiddleware } from './otel-middleware.js'

const sdk = testSdk()
const middleware = () => [
  otelMiddleware({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider }),
]

afterEach(() => sdk.spans.reset())

describe('otelMiddleware trace tree', () => {
  it('spans - publish, two retries and the dead-letter are PRODUCER then CONSUMER children', async () => {
    const bus = createEventBus({
      transport: memoryTransport(),
      source: 'hr-service',
      middleware: middleware(),
    })
    const dead: string[] = []
    await bus.subscribe(
      'employees',
      () => {
        throw new TypeError('payroll is down')
      },
      { group: 'payroll', retry: { maxAttempts: 3, backoff: constant(1) } },
    )
    await bus.subscribe('employees.dlq', (event) => void dead.push(event.id), { group: 'ops' })
    const tracer = sdk.tracerProvider.getTracer('test')
    let published!: EventEnvelope
    await tracer.startActiveSpan('http POST /employees', async (root) => {
      published = await bus.publish('employees', {
        type: 'employee.created',
        subject: 'e-1',
        tenantid: 'acme',
        correlationid: 'corr-1',
        partitionkey: 'e-1',
        data: { id: 'e-1' },
      })
      root.end()
    })
    await until(() => dead.length === 1, 5_000, 'the dead letter')
    await until(() => sdk.finished().filter((s) => s.name === 'process employees').length === 3)
    await bus.close()

    const spans = sdk.finished()
    const root = spans.find((s) => s.name === 'http POST /employees')!
    const send = spans.find((s) => s.name === 'send employees')!
    const attempts = spans.filter((s) => s.name === 'process employees')
    // The dead-letter record itself is published by core below the middleware: no span; the ops
    // group's handling of it is a span of its own trace.
    expect(spans.map((s) => s.name).sort()).toEqual([
      'http POST /employees',
      'process employees',
      'process employees',
      'process employees',
      'process employees.dlq',
      'send employees',
    ])

    expect(send.kind).toBe(SpanKind.PRODUCER)
    expect(send.parentSpanContext?.spanId).toBe(root.spanContext().spanId)
    expect(send.spanContext().traceId).toBe(root.spanContext().traceId)
    expect(send.attributes).toEqual({
      'messaging.system': 'memory',
      'messaging.destination.name': 'employees',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.message.id': published.id,
      'messaging.message.conversation_id': 'corr-1',
      'cloudevents.event_type': 'employee.created',
      'cloudevents.event_source': 'hr-service',
      'cloudevents.event_subject': 'e-1',
      'switchyard.tenant_id': 'acme',
    })
    expect(send.status.code).toBe(SpanStatusCode.UNSET)
    expect(published.traceparent).toBe(
      `00-${send.spanContext().traceId}-${send.spanContext().spanId}-01`,
    )

    attempts.sort(
      (a, b) =>
        Number(a.attributes['switchyard.attempt']) - Number(b.attributes['switchyard.attempt']),
    )
    expect(attempts.map((s) => s.attributes['switchyard.attempt'])).toEqual([1, 2, 3])
    for (const [i, span] of attempts.entries()) {
      expect(span.kind).toBe(SpanKind.CONSUMER)
      expect(span.parentSpanContext?.spanId).toBe(send.spanContext().spanId)
      expect(span.spanContext().traceId).toBe(root.spanContext().traceId)
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'payroll is down' })
      const last = i === 2
      expect(span.attributes).toEqual({
        'messaging.system': 'memory',
        'messaging.destination.name': 'employees',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.message.id': published.id,
        'messaging.message.conversation_id': 'corr-1',
        'messaging.consumer.group.name': 'payroll',
        'cloudevents.event_type': 'employee.created',
        'cloudevents.event_source': 'hr-service',
        'cloudevents.event_subject': 'e-1',
        'switchyard.tenant_id': 'acme',
        'switchyard.attempt': i + 1,
        'switchyard.max_attempts': 3,
        'switchyard.outcome': last ? 'dead-letter' : 'retry',
        'error.type': 'TypeError',
        ...(last ? { 'switchyard.reason': span.attributes['switchyard.reason'] } : {}),
      })
      const events = span.events.map((e) => e.name)
      expect(events).toEqual(['exception', last ? 'switchyard.dead_letter' : 'switchyard.retry'])
      expect(span.events[0]!.attributes).toMatchObject({
        'exception.type': 'TypeError',
        'exception.message': 'payroll is down',
      })
      if (last) {
        expect(span.attributes['switchyard.reason']).toMatch(/3 attempts|gave up/)
        expect(span.events[1]!.attributes).toMatchObject({ 'switchyard.attempt': 3 })
      } else {
        expect(span.events[1]!.attributes).toEqual({
          'switchyard.attempt': i + 1,
          'switchyard.retry.delay_ms': 1,
        })
      }
    }
    const dlq = spans.find((s) => s.name === 'process employees.dlq')!
    expect(dlq.spanContext().traceId).not.toBe(root.spanContext().traceId)
    expect(dlq.parentSpanContext).toBeUndefined()
  })
})

describe('otelMiddleware outcomes', () => {
  it('spans - a successful handler runs inside its process span and the span stays OK', async () => {
    const bus = createEventBus({
      transport: memoryTransport(),
      source: 'hr',
      middleware: middleware(),
    })
    let inside: string | undefined
    await bus.subscribe('employees', () => {
      inside = trace.getActiveSpan()?.spanContext().spanId
      sdk.tracerProvider.getTracer('app').startSpan('send welcome mail').end()
    })
    await bus.publish('employees', { type: 'employee.created' })
    await until(() => sdk.finished().some((s) => s.name === 'process employees'))
    await bus.close()
    const process = sdk.finished().find((s) => s.name === 'process employees')!
    const child = sdk.finished().find((s) => s.name === 'send welcome mail')!
    expect(inside).toBe(process.spanContext().spanId)
    expect(child.parentSpanContext?.spanId).toBe(process.spanContext().spanId)
    expect(process.status.code).toBe(SpanStatusCode.UNSET)
    expect(process.attributes['switchyard.outcome']).toBe('success')
    expect(process.events).toEqual([])
    // Nothing was active when publishing: the producer span is the root of the trace.
    const send = sdk.finished().find((s) => s.name === 'send employees')!
    expect(send.parentSpanContext).toBeUndefined()
    expect(process.parentSpanContext?.spanId).toBe(send.spanContext().spanId)
  })

  it('spans - a drop is not an error and an explicit dead-letter without error still marks the span', async () => {
    const bus = createEventBus({
      transport: memoryTransport(),
      middleware: middleware(),
      source: 's',
    })
    await bus.subscribe('a', () => outcome.drop('not ours'))
    await bus.subscribe('b', () => outcome.deadLetter('no body'))
    await bus.publish('a', { type: 't' })
    await bus.publish('b', { type: 't' })
    await until(() => sdk.finished().filter((s) => s.name.startsWith('process ')).length === 2)
    await bus.close()
    const dropped = sdk.finished().find((s) => s.name === 'process a')!
    expect(dropped.status.code).toBe(SpanStatusCode.UNSET)
    expect(dropped.attributes).toMatchObject({
      'switchyard.outcome': 'drop',
      'switchyard.reason': 'not ours',
    })
    const dead = sdk.finished().find((s) => s.name === 'process b')!
    expect(dead.status).toEqual({ code: SpanStatusCode.ERROR, message: 'no body' })
    expect(dead.attributes).toMatchObject({
      'switchyard.outcome': 'dead-letter',
      'error.type': '_OTHER',
    })
    expect(dead.events.map((e) => e.name)).toEqual(['switchyard.dead_letter'])
  })

  it('spans - an error thrown by an inner middleware is recorded and rethrown', async () => {
    const boom = new RangeError('inner middleware broke')
    const bus = createEventBus({
      transport: memoryTransport(),
      source: 's',
      middleware: [
        ...middleware(),
        {
          handle: async () => {
            throw boom
          },
        },
      ],
    })
    await bus.subscribe('a', () => undefined, { retry: { maxAttempts: 1 } })
    await bus.publish('a', { type: 't' })
    await until(() => sdk.finished().some((s) => s.name === 'process a'))
    await bus.close()
    const span = sdk.finished().find((s) => s.name === 'process a')!
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'inner middleware broke' })
    expect(span.attributes).toMatchObject({
      'switchyard.outcome': 'error',
      'error.type': 'RangeError',
    })
  })

  it('spans - a failed publish ends the producer span with the error', async () => {
    const transport = memoryTransport()
    transport.faults.failNextPublishes(1, new Error('broker said no'))
    const bus = createEventBus({ transport, source: 's', middleware: middleware() })
    await expect(bus.publish('a', { type: 't' })).rejects.toThrow()
    await bus.close()
    const send = sdk.finished().find((s) => s.name === 'send a')!
    expect(send.status.code).toBe(SpanStatusCode.ERROR)
    expect(send.events.map((e) => e.name)).toEqual(['exception'])
    expect(send.attributes['error.type']).toBeTypeOf('string')
  })
})

describe('otelMiddleware propagation', () => {
  it('propagation - traceparent survives the binary codec between two buses on one broker', async () => {
    const broker = createMemoryBroker()
    const producer = createEventBus({
      transport: memoryTransport({ broker }),
      source: 'hr',
      middleware: middleware(),
    })
    const consumer = createEventBus({
      transport: memoryTransport({ broker }),
      source: 'mail',
      middleware: middleware(),
    })
    const seen: EventEnvelope[] = []
    await consumer.subscribe('employees', (event) => void seen.push(event), { group: 'mail' })
    await sdk.tracerProvider.getTracer('t').startActiveSpan('job', async (span) => {
      await producer.publish('employees', { type: 'employee.created', tracestate: 'vendor=1' })
      span.end()
    })
    await until(() => sdk.finished().some((s) => s.name === 'process employees'))
    await producer.close()
    await consumer.close()
    const job = sdk.finished().find((s) => s.name === 'job')!
    const send = sdk.finished().find((s) => s.name === 'send employees')!
    const process = sdk.finished().find((s) => s.name === 'process employees')!
    expect(seen[0]!.traceparent).toBe(
      `00-${job.spanContext().traceId}-${send.spanContext().spanId}-01`,
    )
    expect(process.parentSpanContext).toMatchObject({
      spanId: send.spanContext().spanId,
      isRemote: true,
    })
    expect(process.spanContext().traceId).toBe(job.spanContext().traceId)
  })

  it('propagation - without an active span a traceparent already on the event is continued', async () => {
    const bus = createEventBus({
      transport: memoryTransport(),
      source: 'relay',
      middleware: middleware(),
    })
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    const sent = await bus.publish('orders', { type: 'order.placed', traceparent })
    await bus.close()
    const send = sdk.finished().find((s) => s.name === 'send orders')!
    expect(send.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c')
    expect(send.parentSpanContext?.spanId).toBe('b7ad6b7169203331')
    expect(sent.traceparent).toBe(
      `00-0af7651916cd43dd8448eb211c80319c-${send.spanContext().spanId}-01`,
    )
  })

  it('propagation - a configured propagator writes its own fields as extensions and reads them back', async () => {
    const custom: TextMapPropagator = {
      inject(ctx, carrier, setter) {
        const span = trace.getSpanContext(ctx)
        if (span !== undefined) setter.set(carrier, 'mytrace', `${span.traceId}:${span.spanId}`)
        setter.set(carrier, 'Not-An-Extension', 'dropped')
      },
      extract(ctx, carrier, getter) {
        const value = getter.get(carrier, 'mytrace')
        if (typeof value !== 'string') return ctx
        const [traceId, spanId] = value.split(':') as [string, string]
        return trace.setSpanContext(ctx, { traceId, spanId, traceFlags: 1, isRemote: true })
      },
      fields: () => ['mytrace'],
    }
    const mw = otelMiddleware({
      tracerProvider: sdk.tracerProvider,
      propagator: custom,
      metrics: false,
    })
    const bus = createEventBus({ transport: memoryTransport(), source: 's', middleware: [mw] })
    const seen: EventEnvelope[] = []
    await bus.subscribe('a', (event) => void seen.push(event))
    await bus.publish('a', { type: 't' })
    await until(() => sdk.finished().some((s) => s.name === 'process a'))
    await bus.close()
    const send = sdk.finished().find((s) => s.name === 'send a')!
    const process = sdk.finished().find((s) => s.name === 'process a')!
    expect(seen[0]!.traceparent).toBeUndefined()
    expect(seen[0]!.extensions).toEqual({
      mytrace: `${send.spanContext().traceId}:${send.spanContext().spanId}`,
    })
    expect(process.parentSpanContext?.spanId).toBe(send.spanContext().spanId)
  })

  it('spans - request/reply inboxes collapse to one temporary destination name', async () => {
    const bus = createEventBus({
      transport: memoryTransport(),
      source: 's',
      middleware: middleware(),
    })
    await bus.respond('calc.sum', (event) => (event.data as number[]).reduce((a, b) => a + b, 0))
    const reply = await bus.request('calc.sum', [1, 2, 3])
    expect(reply.data).toBe(6)
    await until(() => sdk.finished().some((s) => s.name === 'process (temporary)'))
    await bus.close()
    const names = sdk.finished().map((s) => s.name)
    expect(names).toEqual(
      expect.arrayContaining(['send calc.sum', 'process calc.sum', 'send (temporary)']),
    )
    const inbox = sdk.finished().find((s) => s.name === 'send (temporary)')!
    expect(inbox.attributes['messaging.destination.temporary']).toBe(true)
    expect(String(inbox.attributes['messaging.destination.name'])).toMatch(/^_switchyard\.inbox\./)
    // The reply continues the request's trace: the responder published inside its process span.
    const request = sdk.finished().find((s) => s.name === 'send calc.sum')!
    expect(inbox.spanContext().traceId).toBe(request.spanContext().traceId)
  })

  it('spans - temporary comes from the context core sets, not from the topic name', async () => {
    const mw = otelMiddleware({ tracerProvider: sdk.tracerProvider, metrics: false })
    const event = createEvent({ type: 't', source: 's' })
    // A topic that merely looks like an inbox is an ordinary destination.
    await mw.publish!({ topic: '_switchyard.inbox.x', event, transport: 'memory' }, async () => {})
    await mw.publish!(
      { topic: 'replies-7', event, transport: 'memory', temporary: true },
      async () => {},
    )
    const [lookalike, flagged] = sdk.finished()
    expect(lookalike!.name).toBe('send _switchyard.inbox.x')
    expect(lookalike!.attributes['messaging.destination.temporary']).toBeUndefined()
    expect(flagged!.name).toBe('send (temporary)')
    expect(flagged!.attributes['messaging.destination.temporary']).toBe(true)
  })

  it('spans - the kafka message key is recorded only for kafka', async () => {
    const mw = otelMiddleware({ tracerProvider: sdk.tracerProvider, metrics: false })
    const event = createEvent({ type: 't', source: 's', partitionkey: 'k-1' })
    await mw.publish!({ topic: 'orders', event, transport: 'kafka' }, async () => undefined)
    await mw.publish!({ topic: 'orders', event, transport: 'redis' }, async () => undefined)
    const [kafka, redis] = sdk.finished()
    expect(kafka!.attributes['messaging.kafka.message.key']).toBe('k-1')
    expect(kafka!.attributes['messaging.system']).toBe('kafka')
    expect(redis!.attributes['messaging.kafka.message.key']).toBeUndefined()
  })

  it('options - unknown or malformed options fail at construction', () => {
    expect(() => otelMiddleware({ tracer: 1 } as never)).toThrow(
      /Unknown option otelMiddleware.tracer/,
    )
    expect(() => otelMiddleware({ traces: 'yes' } as never)).toThrow(ConfigurationError)
    expect(() => otelMiddleware({ meterProvider: {} as never })).toThrow(/getMeter/)
  })
})
