import { memoryTransport } from '@switchyard/adapter-memory'
import {
  ConnectionError,
  createEventBus,
  type PublishMiddleware,
  SchemaValidationError,
  silentLogger,
} from '@switchyard/core'
import { waitUntil } from '@switchyard/testkit'
import { describe, expect, it } from 'vitest'
import type { BreakerState } from './breaker.js'
import { CircuitOpenError } from './errors.js'
import { publishBreaker } from './publish-breaker.js'

/** A bus whose "broker" fails as `fail()` says, behind the breaker. */
function setup(fail: () => Error | undefined) {
  const changes: BreakerState[] = []
  const breaker = publishBreaker({
    consecutiveFailures: 3,
    halfOpenAfterMs: 150,
    onStateChange: ({ state }) => changes.push(state),
  })
  let reached = 0
  const broker: PublishMiddleware = async (_ctx, next) => {
    reached++
    const error = fail()
    if (error) throw error
    await next()
  }
  const bus = createEventBus({
    transport: memoryTransport(),
    source: 'pb-test',
    logger: silentLogger,
    middleware: [breaker, { publish: broker }],
  })
  return { bus, breaker, changes, reached: () => reached }
}

describe('publish breaker', () => {
  it('publish breaker - opens after 3 retryable failures, refuses without reaching the broker, probes and closes', async () => {
    let down = true
    const { bus, breaker, changes, reached } = setup(() =>
      down ? new ConnectionError('gone') : undefined,
    )
    try {
      for (let i = 0; i < 3; i++)
        await expect(bus.publish('pb', { type: 't' })).rejects.toBeInstanceOf(ConnectionError)
      expect(breaker.state).toBe('open')
      const refused = await bus.publish('pb', { type: 't' }).catch((e: unknown) => e)
      expect(refused).toBeInstanceOf(CircuitOpenError)
      expect((refused as CircuitOpenError).breaker).toBe('publish')
      expect(reached()).toBe(3)
      down = false
      await waitUntil(() => breaker.state === 'half-open', {
        timeoutMs: 2_000,
        message: 'half-open',
      })
      await bus.publish('pb', { type: 't' })
      expect(breaker.state).toBe('closed')
      expect(changes).toEqual(['open', 'half-open', 'closed'])
    } finally {
      await bus.close()
    }
  })

  it('publish breaker - a failed probe opens it again for another halfOpenAfterMs', async () => {
    const { bus, breaker, changes } = setup(() => new ConnectionError('gone'))
    try {
      for (let i = 0; i < 3; i++) await bus.publish('pb', { type: 't' }).catch(() => undefined)
      await waitUntil(() => breaker.state === 'half-open', {
        timeoutMs: 2_000,
        message: 'half-open',
      })
      await expect(bus.publish('pb', { type: 't' })).rejects.toBeInstanceOf(ConnectionError)
      expect(breaker.state).toBe('open')
      expect(breaker.breaker.retryAfterMs).toBeGreaterThan(100)
      expect(changes).toEqual(['open', 'half-open', 'open'])
    } finally {
      await bus.close()
    }
  })

  it('publish breaker - refusals that are not retryable (a failed validation) do not open it', async () => {
    const { bus, breaker } = setup(
      () => new SchemaValidationError([{ path: 'data', message: 'bad' }]),
    )
    try {
      for (let i = 0; i < 6; i++) {
        await expect(bus.publish('pb', { type: 't' })).rejects.toBeInstanceOf(SchemaValidationError)
      }
      expect(breaker.state).toBe('closed')
    } finally {
      await bus.close()
    }
  })
})
