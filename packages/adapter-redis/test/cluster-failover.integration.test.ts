import { createEventBus, type EventBus, exponential, type Logger } from '@switchyard/core'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import { type Cluster, Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { redisTransport, topicKeys } from '../src/index.js'
import { clusterClient, hasClusterTools, RedisCluster } from './cluster-nodes.js'
import { uniquePrefix } from './helpers.js'

// Three masters and three replicas of the test's own (tooling/cluster/redis.sh). The master of
// the topic's hash slot is SIGKILLed a third of the way into 10 000 events; its replica takes
// the slot over and the stream goes on (checked before the node returns), and the killed node
// is brought back two thirds of the way in, rejoining as a replica.
const skip = await serviceOrSkip('redis-server and redis-cli binaries', hasClusterTools)

const EVENTS = 10_000
// The bus rides out a failover itself: up to 10 attempts over about 11 s (the default, 3 attempts
// over 0.3 s, gives up while a new leader is being chosen).
const FAILOVER_RETRY = { maxAttempts: 10, backoff: exponential({ baseMs: 100, maxMs: 2_000 }) }
const BATCH = 100

/** The node (1-6) of `cluster` that is master of `key`'s hash slot. */
async function masterOf(cluster: RedisCluster, key: string): Promise<number> {
  const nodes = cluster.nodes
  const client = new Redis(nodes[0]!.port, '127.0.0.1')
  try {
    const slot = Number(await client.call('CLUSTER', 'KEYSLOT', key))
    const ranges = (await client.call('CLUSTER', 'SLOTS')) as Array<
      [number, number, [string, number]]
    >
    const range = ranges.find(([from, to]) => slot >= from && slot <= to)
    const port = range?.[2][1]
    const node = nodes.findIndex((n) => n.port === port)
    if (node < 0) throw new Error(`no master serves slot ${slot}`)
    return node + 1
  } finally {
    client.disconnect()
  }
}

describe.skipIf(skip !== undefined)('redis adapter (3 masters + 3 replicas)', () => {
  it('cluster - the master of the topic SIGKILLed mid-stream of 10 000 events, its replica takes over, the node comes back: none lost', async () => {
    // A master silent for 3 s is failed over: soon, yet not on a moment's stall of a busy machine.
    const cluster = await RedisCluster.start(3_000)
    const keyPrefix = uniquePrefix('failover')
    const buses: EventBus[] = []
    // What the buses and transports log (retries, reconnects) is counted and summed up, not printed.
    const warnings: string[] = []
    const note = (_fields: Record<string, unknown>, message = '') => void warnings.push(message)
    const logger: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: note,
      error: note,
    }
    const clients: Cluster[] = []
    const bus = async () => {
      const client = clusterClient(cluster.nodes)
      clients.push(client)
      const transport = redisTransport({ client, keyPrefix, consumerTimeoutMs: 5_000 })
      const b = createEventBus({
        source: 'cluster-test',
        transport,
        logger,
        publishRetry: FAILOVER_RETRY,
      })
      buses.push(b)
      await b.connect()
      return b
    }
    try {
      const topic = 'cluster.events'
      const producer = await bus()
      const consumer = await bus()
      const seen = new Set<string>()
      let deliveries = 0
      await consumer.subscribe(
        topic,
        (event) => {
          deliveries++
          seen.add(event.id)
        },
        { group: 'cluster', concurrency: 16, retry: { maxAttempts: 100 } },
      )
      const sent: string[] = []
      let publishRetries = 0
      let victim = -1
      let revived: Promise<unknown> = Promise.resolve()
      const started = Date.now()
      for (let batch = 0; batch < EVENTS / BATCH; batch++) {
        if (batch === 33) {
          victim = await masterOf(cluster, topicKeys(keyPrefix, topic).stream)
          await cluster.kill(victim)
        }
        if (batch === 66) {
          // The replica serves the slot now: all sent so far arrives before the old master is back.
          await waitUntil(() => sent.every((id) => seen.has(id)), {
            timeoutMs: 90_000,
            message: `the events published while node ${victim} was down, delivered after the failover`,
            describe: () =>
              `${sent.filter((id) => !seen.has(id)).length} of ${sent.length} missing`,
          })
          // Not awaited: publishing goes on while the node starts again.
          revived = cluster.start()
        }
        const events = Array.from({ length: BATCH }, (_, i) => ({
          type: 'cluster.event',
          id: `${topic}-${batch}-${i}`,
          data: { batch, i },
        }))
        for (;;) {
          try {
            await producer.publishBatch(topic, events)
            break
          } catch {
            // The slot has no master for a moment: a real service retries; ids count duplicates.
            publishRetries++
            await new Promise((resolve) => setTimeout(resolve, 100))
          }
        }
        sent.push(...events.map((e) => e.id))
      }
      await revived
      await waitUntil(() => seen.size >= EVENTS, {
        timeoutMs: 90_000,
        message: `${EVENTS} events through a failover`,
        describe: () => `${seen.size} of ${EVENTS} seen`,
      })
      const lost = sent.filter((id) => !seen.has(id)).length
      const duplicates = deliveries - seen.size
      const first = warnings.length > 0 ? `, the first: ${warnings[0]}` : ''
      console.info(
        `[cluster:redis] ${EVENTS} events, master of the slot (node ${victim}) SIGKILLed at 1/3, replica promoted, node back at 2/3: lost ${lost}, duplicates ${duplicates}, publish retries ${publishRetries}, ${Date.now() - started} ms; ${warnings.length} warnings logged${first}`,
      )
      expect(lost).toBe(0)
      expect(seen).toEqual(new Set(sent))
    } finally {
      await Promise.allSettled(buses.map((b) => b.close({ timeoutMs: 5_000 })))
      for (const client of clients) client.disconnect()
      await cluster.destroy()
    }
  }, 240_000)
})
