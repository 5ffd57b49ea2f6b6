import { createEventBus } from '@switchyard/core'
import { serviceOrSkip, transportConformance, waitUntil } from '@switchyard/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { redisTransport } from '../src/index.js'
import { hasRedisServer, PrivateRedis, uniquePrefix } from './helpers.js'

// A private append-only redis-server on a spare port: these tests stop and start it, never the
// shared one.
const skip = await serviceOrSkip('redis-server binary', async () => {
  if (!hasRedisServer()) throw new Error('redis-server is not on the PATH')
})
const server = skip === undefined ? await PrivateRedis.start() : undefined
afterAll(() => server?.destroy())
const keyPrefix = uniquePrefix('restart')
const make = () => redisTransport({ url: server!.url, keyPrefix })

transportConformance('redis (private server, restarted)', make, {
  skip,
  features: redisTransport().features,
  restart: () => server!.restart(),
  delayToleranceMs: 500,
})

describe.skipIf(skip !== undefined)('redis faults - server restart', () => {
  it('restart - 10 000 events published and consumed across a restart, none lost', async () => {
    const topic = 'fault.restart'
    const producer = createEventBus({ transport: make(), source: 'producer' })
    // A visibility timeout longer than the test: a read whose reply the restart swallowed must
    // come back through the consumer's own recovery, not through another consumer's reclaim.
    const consumer = createEventBus({
      transport: redisTransport({ url: server!.url, keyPrefix, consumerTimeout: 600_000 }),
      source: 'consumer',
    })
    const seen = new Set<string>()
    let deliveries = 0
    await consumer.subscribe(
      topic,
      (event) => {
        deliveries++
        seen.add(event.id)
      },
      { group: 'fault', concurrency: 16, retry: { maxAttempts: 100 } },
    )
    const sent: string[] = []
    let publishRetries = 0
    let restarted: Promise<void> | undefined
    // Ten publishers, one event at a time each, so the restart lands mid-flight.
    await Promise.all(
      Array.from({ length: 10 }, async (_, p) => {
        for (let i = 0; i < 1_000; i++) {
          const id = `restart-${p}-${i}`
          for (;;) {
            try {
              await producer.publish(topic, { id, type: 'fault.restart', data: { p, i } })
              break
            } catch {
              publishRetries++
              await new Promise((resolve) => setTimeout(resolve, 50))
            }
          }
          sent.push(id)
          if (sent.length === 3_000) restarted = server!.restart()
        }
      }),
    )
    await restarted
    await waitUntil(() => seen.size >= 10_000, {
      timeoutMs: 60_000,
      message: '10 000 events handled after the restart',
      describe: () => `${seen.size} distinct, ${deliveries} deliveries`,
    })
    expect(seen).toEqual(new Set(sent))
    const duplicates = deliveries - 10_000
    console.info(
      `[adapter-redis] restart fault: 10000 events, 0 lost, ${duplicates} duplicate deliveries, ${publishRetries} publish retries`,
    )
    // Duplicates are bounded: a retried publish may have been stored before the connection
    // dropped (one each), and what was read but not yet acknowledged is read again (a few
    // prefetch windows at most). Replaying the stream from the start would blow this.
    expect(duplicates).toBeLessThanOrEqual(publishRetries + 200)
    await Promise.all([producer.close(), consumer.close()])
  })
})
