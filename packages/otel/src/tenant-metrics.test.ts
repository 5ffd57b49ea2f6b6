import { memoryTransport } from '@switchyard/adapter-memory'
import { ConfigurationError, constant, createEventBus } from '@switchyard/core'
import { describe, expect, it } from 'vitest'
import { points, testSdk, until } from '../test/sdk.js'
import { ATTR, METRIC } from './conventions.js'
import type { OtelMiddlewareOptions } from './options.js'
import { otelMiddleware } from './otel-middleware.js'

/** Publishes for two tenants and one without, handles each (one acme event fails once). */
async function run(options: OtelMiddlewareOptions) {
  const sdk = testSdk()
  const mw = otelMiddleware({ meterProvider: sdk.meterProvider, traces: false, ...options })
  const bus = createEventBus({ transport: memoryTransport(), source: 'hr', middleware: [mw] })
  let handled = 0
  let failed = false
  await bus.subscribe(
    'employees',
    (event) => {
      handled++
      if (event.type === 'employee.flaky' && !failed) {
        failed = true
        throw new Error('once')
      }
    },
    { group: 'payroll', retry: { maxAttempts: 3, backoff: constant(1) } },
  )
  await bus.publish('employees', { type: 'employee.created', tenantid: 'acme' })
  await bus.publish('employees', { type: 'employee.flaky', tenantid: 'acme' })
  await bus.publish('employees', { type: 'employee.created', tenantid: 'globex' })
  await bus.publish('employees', { type: 'employee.created' })
  await until(() => handled === 5, 5_000, 'four events, one retried')
  await bus.close()
  const exported = await sdk.metrics()
  await sdk.shutdown()
  return exported
}

describe('otelMiddleware per-tenant metrics', () => {
  it('tenant metrics - with tenantAttribute the sent, consumed and retried series carry the tenantid of each event', async () => {
    const exported = await run({ tenantAttribute: true })
    const byTenant = (name: string) =>
      Object.fromEntries(
        points(exported, name).map((p) => [String(p.attributes[ATTR.tenant] ?? 'none'), p.value]),
      )
    expect(byTenant(METRIC.sentMessages)).toEqual({ acme: 2, globex: 1, none: 1 })
    const consumed = points(exported, METRIC.consumedMessages)
    const acmeOk = consumed.find(
      (p) => p.attributes[ATTR.tenant] === 'acme' && p.attributes[ATTR.errorType] === undefined,
    )
    expect(acmeOk?.value).toBe(2)
    expect(consumed.find((p) => p.attributes[ATTR.tenant] === 'globex')?.value).toBe(1)
    expect(points(exported, METRIC.retriedMessages)).toEqual([
      expect.objectContaining({
        attributes: expect.objectContaining({ [ATTR.tenant]: 'acme', [ATTR.errorType]: 'Error' }),
        value: 1,
      }),
    ])
    const durations = points(exported, METRIC.processDuration)
    expect(new Set(durations.map((p) => p.attributes[ATTR.tenant]))).toEqual(
      new Set(['acme', 'globex', undefined]),
    )
  })

  it('tenant metrics - off by default: no series carries a tenant, tenants share one series', async () => {
    const exported = await run({})
    for (const name of [
      METRIC.sentMessages,
      METRIC.consumedMessages,
      METRIC.operationDuration,
      METRIC.processDuration,
      METRIC.retriedMessages,
    ]) {
      for (const point of points(exported, name)) {
        expect(Object.keys(point.attributes)).not.toContain(ATTR.tenant)
      }
    }
    expect(points(exported, METRIC.sentMessages)).toEqual([expect.objectContaining({ value: 4 })])
  })

  it('tenant metrics - tenantAttribute must be a boolean', () => {
    expect(() => otelMiddleware({ tenantAttribute: 'yes' as unknown as boolean })).toThrow(
      ConfigurationError,
    )
  })
})
