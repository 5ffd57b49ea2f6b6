import { memoryTransport } from '@switchyard/adapter-memory'
import { ConfigurationError, constant, createEventBus, outcome } from '@switchyard/core'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { testSdk, until } from '../test/sdk.js'
import { loggingMiddleware } from './logging-middleware.js'
import { otelMiddleware } from './otel-middleware.js'

type Line = Record<string, unknown>

function capture() {
  const lines: Line[] = []
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void lines.push(JSON.parse(line)) },
  )
  return { lines, logger }
}

describe('loggingMiddleware', () => {
  it('logs - every line has Olive fields and the trace id of the spans around it', async () => {
    const sdk = testSdk()
    const { lines, logger } = capture()
    const bus = createEventBus({
      transport: memoryTransport(),
      source: 'hr-service',
      middleware: [
        otelMiddleware({ tracerProvider: sdk.tracerProvider, metrics: false }),
        loggingMiddleware({ logger, service: 'hr-service' }),
      ],
    })
    let calls = 0
    await bus.subscribe(
      'employees',
      () => {
        if (++calls < 2) throw new Error('mail server busy')
      },
      { group: 'notifications', retry: { maxAttempts: 3, backoff: constant(1) } },
    )
    const event = await bus.publish('employees', {
      type: 'employee.created',
      tenantid: 'acme',
      correlationid: 'corr-9',
    })
    await until(() => lines.length === 3, 5_000, 'three log lines')
    await bus.close()

    const send = sdk.finished().find((s) => s.name === 'send employees')!
    const traceId = send.spanContext().traceId
    // The memory broker may deliver before publish() returns: pick lines by what they say.
    const published = lines.find((l) => l.component === 'producer')!
    const retried = lines.find((l) => l.outcome === 'retry')!
    const handled = lines.find((l) => l.outcome === 'success')!
    const common = {
      service: 'hr-service',
      event_type: 'employee.created',
      event_id: event.id,
      topic: 'employees',
      tenant_id: 'acme',
      correlation_id: 'corr-9',
      trace_id: traceId,
    }
    expect(published).toMatchObject({
      ...common,
      level: 30,
      component: 'producer',
      msg: 'Event published',
    })
    expect(published.span_id).toBe(send.spanContext().spanId)
    expect(retried).toMatchObject({
      ...common,
      level: 40,
      component: 'consumer',
      group: 'notifications',
      attempt: 1,
      outcome: 'retry',
      retry_delay_ms: 1,
      err: { type: 'Error', message: 'mail server busy' },
    })
    expect(retried.msg).toBe('Event handling failed (attempt 1 of 3); will retry')
    expect(handled).toMatchObject({
      ...common,
      level: 30,
      attempt: 2,
      outcome: 'success',
      msg: 'Event handled',
    })
    const process = sdk.finished().filter((s) => s.name === 'process employees')
    expect(process.map((s) => s.spanContext().spanId)).toContain(handled.span_id)
    for (const line of lines) expect(line.duration_ms).toBeTypeOf('number')
    await sdk.shutdown()
  })

  it('logs - without an SDK the trace id comes from the event and dead letters log as errors', async () => {
    const { lines, logger } = capture()
    const bus = createEventBus({
      transport: memoryTransport(),
      source: 'hr',
      middleware: [loggingMiddleware({ logger, service: 'payroll', successLevel: 'debug' })],
    })
    await bus.subscribe('a', (e) =>
      e.type === 'skip' ? outcome.drop('not ours') : outcome.deadLetter('no body'),
    )
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    await bus.publish('a', { type: 'broken', traceparent })
    await bus.publish('a', { type: 'skip' })
    await until(() => lines.length === 4, 5_000, 'four log lines')
    await bus.close()
    const consumer = lines.filter((l) => l.component === 'consumer')
    expect(lines.filter((l) => l.component === 'producer').map((l) => l.level)).toEqual([20, 20])
    expect(consumer[0]).toMatchObject({
      level: 50,
      msg: 'Event dead-lettered',
      reason: 'no body',
      service: 'payroll',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
    })
    expect(consumer[1]).toMatchObject({
      level: 20,
      msg: 'Event dropped',
      reason: 'not ours',
      event_type: 'skip',
    })
    expect(consumer[1]!.trace_id).toBeUndefined()
  })

  it('logs - a failed publish is logged as an error and rethrown', async () => {
    const { lines, logger } = capture()
    const transport = memoryTransport()
    transport.faults.failNextPublishes(1, new Error('broker said no'))
    const bus = createEventBus({
      transport,
      source: 'hr',
      middleware: [loggingMiddleware({ logger, service: 'hr' })],
    })
    await expect(bus.publish('a', { type: 't' })).rejects.toThrow(/broker said no/)
    await bus.close()
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({
      level: 50,
      msg: 'Event publish failed',
      component: 'producer',
    })
    expect(String((lines[0]!.err as { message: string }).message)).toMatch(/broker said no/)
  })

  it('options - a logger and a service name are required', () => {
    expect(() => loggingMiddleware({ service: 'x' } as never)).toThrow(ConfigurationError)
    expect(() => loggingMiddleware({ logger: pino(), service: '' })).toThrow(/service name/)
  })
})
