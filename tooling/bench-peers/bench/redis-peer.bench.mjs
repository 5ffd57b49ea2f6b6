// Redis Streams: the bus beside @moleculer/channels (Redis adapter) in the same run, 1 KB events.
// Publish with 256 in flight; consume of a filled stream tuned and with defaults, every event
// checked handled exactly once; latency at 1 000 events/s (p50/p90/p99), the two taking turns.
// Reads SWITCHYARD_REDIS_URL (default redis://127.0.0.1:6379).
import { redisTransport } from '@switchyard/adapter-redis'
import { createEventBus } from '@switchyard/core'
import { Redis } from 'ioredis'
import { peerBroker, peerRows } from './common.mjs'
import { busSide, peerSide } from './sides.mjs'

const url = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379'
const prefix = `sy-peer-${Math.random().toString(36).slice(2, 8)}`
let topics = 0
const nextTopic = (label) => `${prefix}.${label}.${++topics}`
// The consume settings the adapter's README benches with.
const TUNED = { concurrency: 64, prefetch: 400 }

const bus = () =>
  createEventBus({ transport: redisTransport({ url, keyPrefix: prefix }), source: 'bench' })
const redisPeer = () => peerBroker({ type: 'Redis', options: { redis: url } })

const ours = busSide({ broker: 'redis', bus, nextTopic, tuned: TUNED })
// The stream is filled before the group exists: read it from the start.
const peer = peerSide({
  broker: 'redis',
  makePeer: redisPeer,
  nextChannel: nextTopic,
  fromStart: { redis: { startID: '0' } },
})

async function cleanup(client) {
  for (const pattern of [`{${prefix}:*`, `${prefix}.*`]) {
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000)
      cursor = next
      if (keys.length > 0) await client.unlink(...keys)
    } while (cursor !== '0')
  }
}

export default async function bench({ report, quick }) {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.ping()
  } catch (error) {
    console.log(`  skipped: Redis is not reachable at ${url} (${error.message})`)
    client.disconnect()
    return
  }
  try {
    const labels = { tuned: `ours concurrency 64 prefetch 400, peer maxInFlight 100` }
    await peerRows({ report, quick, broker: 'redis', sides: { ours, peer }, labels })
  } finally {
    await cleanup(client)
    client.disconnect()
  }
}
