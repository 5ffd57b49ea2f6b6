import { memoryTransport } from '@switchyard/adapter-memory'
import { constant, createEventBus } from '@switchyard/core'
import { describe, expect, it } from 'vitest'
import { points, testSdk, until } from '../test/sdk.js'
import { DOTMAC_EQUIVALENTS, METRIC } from './conventions.js'
import { otelMiddleware } from './otel-middleware.js'

describe('otelMiddleware metrics', () => {
  it('metrics - sends, deliveries, retries and dead letters are counted with convention attributes', async () => {
    const sdk = testSdk()
    const mw = otelMiddleware({ meterProvider: sdk.meterProvider, traces: false })
    const bus = createEventBus({ transport: memoryTransport(), source: 'hr', middleware: [mw] })
    let handled = 0
    let dead = 0
    await bus.subscribe(
      'employees',
      (event) => {
        handled++
        if (event.type === 'employee.broken') throw new TypeError('bad employee')
      },
      { group: 'payroll', retry: { maxAttempts: 3, backoff: constant(1) } },
    )
    await bus.subscribe('employees.dlq', () => void dead++, { group: 'ops' })
    await bus.publish('employees', { type: 'employee.created' })
    await bus.publish('employees', { type: 'employee.broken' })
    await until(() => dead === 1 && handled === 4, 5_000, 'three attempts and the dead letter')
    await bus.close()
    const exported = await sdk.metrics()

    const send = {
      'messaging.operation.name': 'send',
      'messaging.operation.type': 'send',
      'messaging.system': 'memory',
      'messaging.destination.name': 'employees',
    }
    expect(points(exported, METRIC.sentMessages)).toEqual([
      expect.objectContaining({ attributes: send, value: 2 }),
    ])
    const duration = points(exported, METRIC.operationDuration)
    expect(duration).toHaveLength(1)
    expect(duration[0]!.attributes).toEqual(send)
    expect((duration[0]!.value as { count: number }).count).toBe(2)

    const process = {
      'messaging.operation.name': 'process',
      'messaging.operation.type': 'process',
      'messaging.system': 'memory',
      'messaging.destination.name': 'employees',
      'messaging.consumer.group.name': 'payroll',
    }
    const failed = { ...process, 'error.type': 'TypeError' }
    const consumed = points(exported, METRIC.consumedMessages).filter(
      (p) => p.attributes['messaging.destination.name'] === 'employees',
    )
    expect(consumed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ attributes: process, value: 1 }),
        expect.objectContaining({ attributes: failed, value: 3 }),
      ]),
    )
    expect(consumed).toHaveLength(2)
    const processDuration = points(exported, METRIC.processDuration).filter(
      (p) => p.attributes['messaging.destination.name'] === 'employees',
    )
    expect(processDuration.map((p) => (p.value as { count: number }).count).sort()).toEqual([1, 3])
    expect(points(exported, METRIC.retriedMessages)).toEqual([
      expect.objectContaining({ attributes: failed, value: 2 }),
    ])
    expect(points(exported, METRIC.deadLetteredMessages)).toEqual([
      expect.objectContaining({ attributes: failed, value: 1 }),
    ])
    await sdk.shutdown()
  })

  it('metrics - durations are histograms in seconds with the recommended buckets', async () => {
    const sdk = testSdk()
    const mw = otelMiddleware({ meterProvider: sdk.meterProvider, traces: false })
    const bus = createEventBus({ transport: memoryTransport(), source: 'hr', middleware: [mw] })
    await bus.publish('a', { type: 't' })
    await bus.close()
    const exported = await sdk.metrics()
    const metric = exported.scopeMetrics[0]!.metrics.find(
      (m) => m.descriptor.name === METRIC.operationDuration,
    )!
    expect(metric.descriptor.unit).toBe('s')
    const value = metric.dataPoints[0]!.value as { buckets: { boundaries: number[] }; sum: number }
    expect(value.buckets.boundaries).toEqual([
      0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    ])
    expect(value.sum).toBeLessThan(1)
    expect(exported.scopeMetrics[0]!.scope.name).toBe('@switchyard/otel')
    await sdk.shutdown()
  })

  it('metrics - every DotMac metric name maps to a recorded instrument', () => {
    expect(Object.keys(DOTMAC_EQUIVALENTS).sort()).toEqual([
      'event_consume_duration_seconds',
      'event_publish_duration_seconds',
      'events_consumed_total',
      'events_dlq_total',
      'events_published_total',
      'events_retried_total',
    ])
    // Each DotMac name maps to a distinct instrument of ours (we record more than DotMac did:
    // losses, bus errors and the inspection gauges have no DotMac name).
    const ours = new Set<string>(Object.values(METRIC))
    const mapped = Object.values(DOTMAC_EQUIVALENTS)
    expect(mapped.every((name) => ours.has(name))).toBe(true)
    expect(new Set(mapped).size).toBe(mapped.length)
  })
})
