import { memoryTransport } from '@switchyard/adapter-memory'
import { ConfigurationError, createEventBus } from '@switchyard/core'
import { describe, expect, it } from 'vitest'
import { points, testSdk, until } from '../test/sdk.js'
import { METRIC } from './conventions.js'
import { inspectionGauges } from './inspection-gauges.js'

describe('inspectionGauges', () => {
  it('gauges - lag, pending, oldest unsettled age, retained and dead-letter depth from bus.inspect()', async () => {
    const sdk = testSdk()
    const bus = createEventBus({ transport: memoryTransport(), source: 'hr' })
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    let started = 0
    await bus.subscribe(
      'employees',
      async (event) => {
        if (event.type === 'broken') throw new Error('broken')
        started++
        await held
      },
      { group: 'payroll', concurrency: 1, prefetch: 1, retry: { maxAttempts: 1 } },
    )
    await bus.publish('employees', { type: 'broken' })
    for (let i = 0; i < 4; i++) await bus.publish('employees', { type: 'hired', data: { i } })
    await until(() => started === 1, 5_000, 'the first handler to hang')
    const stop = inspectionGauges(bus, { meterProvider: sdk.meterProvider, topics: ['employees'] })
    const exported = await sdk.metrics()
    const group = {
      'messaging.destination.name': 'employees',
      'messaging.consumer.group.name': 'payroll',
    }
    expect(points(exported, METRIC.consumerLag)).toEqual([
      expect.objectContaining({ attributes: group, value: 3 }),
    ])
    expect(points(exported, METRIC.consumerPending)).toEqual([
      expect.objectContaining({ attributes: group, value: 1 }),
    ])
    const [age] = points(exported, METRIC.oldestUnsettledAge)
    expect(age?.attributes).toEqual(group)
    expect(age?.value).toBeGreaterThanOrEqual(0)
    expect(points(exported, METRIC.deadLetterDepth)).toEqual([
      expect.objectContaining({
        attributes: { 'messaging.destination.name': 'employees' },
        value: 1,
      }),
    ])
    expect(points(exported, METRIC.retainedMessages)).toHaveLength(1)
    stop()
    release()
    await bus.close()
    await sdk.shutdown()
  })

  it('gauges - an unknown option is a ConfigurationError naming it', () => {
    const bus = createEventBus({ transport: memoryTransport() })
    expect(() => inspectionGauges(bus, { every: 1 } as never)).toThrow(ConfigurationError)
    expect(() => inspectionGauges(bus, { every: 1 } as never)).toThrow(/inspectionGauges\.every/)
  })
})
