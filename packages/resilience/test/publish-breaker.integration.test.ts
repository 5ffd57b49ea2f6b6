import { redisTransport } from '@switchyard/adapter-redis'
import { createEventBus, silentLogger } from '@switchyard/core'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { CircuitOpenError, publishBreaker } from '../src/index.js'
import { hasRedisServer, PrivateRedis, unique } from './brokers.js'

// A server of the test's own, stopped and started: needs the redis-server binary.
const noBinary = await serviceOrSkip('the redis-server binary', async () => {
  if (!hasRedisServer()) throw new Error('redis-server is not on the PATH')
})

describe.skipIf(noBinary !== undefined)('publish breaker - redis', () => {
  it('publish breaker - fails fast with CircuitOpenError while the broker is stopped, closes again once it is back', async () => {
    const server = await PrivateRedis.start()
    const breaker = publishBreaker({ consecutiveFailures: 3, halfOpenAfterMs: 1_000 })
    // No offline queue: with ioredis' default a publish waits out up to 20 reconnect attempts
    // before it fails, which is what the breaker is for but too slow for a test.
    const client = new Redis(server.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    })
    client.on('error', () => undefined)
    const bus = createEventBus({
      transport: redisTransport({ client, keyPrefix: unique('sy-pb') }),
      source: 'publish-breaker-test',
      middleware: [breaker],
      logger: silentLogger,
      hooks: { onError: () => undefined },
    })
    const topic = 'breaker.events'
    try {
      await bus.publish(topic, { type: 'ping' })
      expect(breaker.state).toBe('closed')
      await server.down()

      const failures: unknown[] = []
      while (breaker.state !== 'open') {
        failures.push(await bus.publish(topic, { type: 'ping' }).catch((error: unknown) => error))
      }
      // Three failures of the broker itself, none a refusal of the breaker.
      expect(failures).toHaveLength(3)
      for (const failure of failures) {
        expect(failure).toBeInstanceOf(Error)
        expect(failure).not.toBeInstanceOf(CircuitOpenError)
      }

      const started = performance.now()
      const refused = await bus.publish(topic, { type: 'ping' }).catch((error: unknown) => error)
      const tookMs = performance.now() - started
      expect(refused).toBeInstanceOf(CircuitOpenError)
      const open = refused as CircuitOpenError
      expect(open.retryable).toBe(true)
      expect(open.code).toBe('ERR_CIRCUIT_OPEN')
      expect(open.retryAfterMs).toBeGreaterThan(0)
      expect(open.retryAfterMs).toBeLessThanOrEqual(1_000)
      expect(tookMs).toBeLessThan(50)

      await server.up()
      // Probes until one lands: the client reconnects on its own schedule.
      await waitUntil(
        () =>
          bus.publish(topic, { type: 'ping' }).then(
            () => true,
            () => false,
          ),
        {
          timeoutMs: 20_000,
          intervalMs: 100,
          message: 'a publish through the breaker after the restart',
        },
      )
      expect(breaker.state).toBe('closed')
      await bus.publish(topic, { type: 'ping' })
    } finally {
      await bus.close()
      client.disconnect()
      await server.down()
    }
  }, 60_000)
})
