import { memoryTransport } from '@switchyard/adapter-memory'
import { createEventBus, type Middleware } from '@switchyard/core'
import { afterEach, describe, expect, it } from 'vitest'
import { points, testSdk, until } from '../test/sdk.js'
import { observabilityFromEnv, observabilityResourceFromEnv } from './observability-from-env.js'

const sdk = testSdk()
afterEach(() => sdk.spans.reset())

/** Publishes and handles one event through `middleware`; then closes the bus. */
async function run(middleware: Middleware[]) {
  const bus = createEventBus({ transport: memoryTransport(), source: 'hr', middleware })
  let handled = 0
  await bus.subscribe('employees', () => void handled++, { group: 'mail' })
  await bus.publish('employees', { type: 'employee.created', data: {} })
  await until(() => handled === 1)
  await bus.close()
}

const providers = { tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider }

describe('observabilityFromEnv', () => {
  it('flags - EVENTS_TRACING_ENABLED and EVENTS_METRICS_ENABLED switch spans and measurements', async () => {
    await run(observabilityFromEnv({ EVENTS_TRACING_ENABLED: 'false' }, { otel: providers }))
    expect(sdk.finished()).toEqual([])
    const counted = points(await sdk.metrics(), 'messaging.client.sent.messages')
    expect(counted.reduce((n, p) => n + Number(p.value), 0)).toBeGreaterThan(0)
    const before = counted.reduce((n, p) => n + Number(p.value), 0)
    await run(observabilityFromEnv({ EVENTS_METRICS_ENABLED: 'off' }, { otel: providers }))
    expect(
      sdk
        .finished()
        .map((s) => s.name)
        .sort(),
    ).toEqual(['process employees', 'send employees'])
    const after = points(await sdk.metrics(), 'messaging.client.sent.messages')
    expect(after.reduce((n, p) => n + Number(p.value), 0)).toBe(before)
  })

  it('logging - off by default; on, every line carries service, version and environment', async () => {
    expect(observabilityFromEnv({}).map((m) => m.name)).toEqual(['otel'])
    const lines: Record<string, unknown>[] = []
    const log = (fields: Record<string, unknown>) => void lines.push(fields)
    const env = {
      EVENTS_LOGGING_ENABLED: 'yes',
      EVENTS_TRACING_ENABLED: '0',
      EVENTS_METRICS_ENABLED: 'no',
      SERVICE_NAME: 'hr-service',
      SERVICE_VERSION: '2.1.0',
      ENVIRONMENT: 'staging',
    }
    const middleware = observabilityFromEnv(env, { logger: { info: log, warn: log, error: log } })
    expect(middleware.map((m) => m.name)).toEqual(['logging'])
    await run(middleware)
    expect(lines).toHaveLength(2)
    for (const line of lines) {
      expect(line).toMatchObject({
        service: 'hr-service',
        service_version: '2.1.0',
        environment: 'staging',
      })
    }
    expect(observabilityResourceFromEnv(env)).toEqual({
      'service.name': 'hr-service',
      'service.version': '2.1.0',
      'deployment.environment.name': 'staging',
    })
    expect(observabilityResourceFromEnv({})).toEqual({})
  })

  it('errors - a flag that is not a boolean, or logging without SERVICE_NAME, names the variable', () => {
    expect(() => observabilityFromEnv({ EVENTS_METRICS_ENABLED: 'sometimes' })).toThrow(
      /EVENTS_METRICS_ENABLED/,
    )
    expect(() => observabilityFromEnv({ EVENTS_LOGGING_ENABLED: 'true' })).toThrow(/SERVICE_NAME/)
  })
})
