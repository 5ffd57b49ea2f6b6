// Redis Streams: the bus beside @moleculer/channels (Redis adapter) in the same run, 1 KB events.
// Publish with 256 in flight; consume of a filled stream tuned and with defaults, every event
// checked handled exactly once; latency at 1 000 events/s (p50/p90/p99), the two taking turns.
// Reads SWITCHYARD_REDIS_URL (default redis://127.0.0.1:6379).
import { redisTransport } from '@switchyard/adapter-redis'
import { createEventBus } from '@switchyard/core'
import { Redis } from 'ioredis'
import { data, latencyRecorder, ledger, peerBroker, peerRows, windowed } from './common.mjs'

const url = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379'
const prefix = `sy-peer-${Math.random().toString(36).slice(2, 8)}`
let topics = 0
const nextTopic = (label) => `${prefix}.${label}.${++topics}`
// The consume settings the adapter's README benches with.
const TUNED = { concurrency: 64, prefetch: 400 }

const bus = () =>
  createEventBus({ transport: redisTransport({ url, keyPrefix: prefix }), source: 'bench' })
const redisPeer = () => peerBroker({ type: 'Redis', options: { redis: url } })

const ours = {
  async publish(count, window) {
    const producer = bus()
    await producer.connect()
    const topic = nextTopic('publish')
    const rate = await windowed(count, window, () =>
      producer.publish(topic, { type: 'employee.created', data }),
    )
    await producer.close()
    return rate
  },
  async consume(count, tuned) {
    const topic = nextTopic('consume')
    const producer = bus()
    await windowed(count, 1_000, (seq) =>
      producer.publish(topic, { type: 'employee.created', data: { ...data, seq } }),
    )
    await producer.close()
    const consumer = bus()
    await consumer.connect()
    const seen = ledger(count, `redis consume, ours ${tuned ? 'tuned' : 'defaults'}`)
    const options = { group: 'bench', startAt: 'earliest', ...(tuned ? TUNED : {}) }
    await consumer.subscribe(topic, (event) => seen.handle(event.data.seq), options)
    await seen.done
    await seen.check()
    await consumer.close()
    return seen.rate
  },
  async latency() {
    const topic = nextTopic('latency')
    const producer = bus()
    const consumer = bus()
    const recorder = latencyRecorder()
    await consumer.subscribe(topic, (event) => recorder.record(event.data), TUNED)
    await producer.connect()
    let seq = 0
    return {
      ...recorder,
      send: (sentAt) =>
        producer.publish(topic, {
          type: 'employee.created',
          data: { ...data, sentAt, seq: seq++ },
        }),
      close: () => Promise.all([producer.close(), consumer.close()]),
    }
  },
}

const peer = {
  async publish(count, window) {
    const broker = redisPeer()
    await broker.start()
    const channel = nextTopic('peer-publish')
    const rate = await windowed(count, window, () => broker.sendToChannel(channel, data))
    await broker.stop()
    return rate
  },
  async consume(count, tuned) {
    const channel = nextTopic('peer-consume')
    const producer = redisPeer()
    await producer.start()
    await windowed(count, 1_000, (seq) => producer.sendToChannel(channel, { ...data, seq }))
    await producer.stop()
    const seen = ledger(count, `redis consume, peer ${tuned ? 'tuned' : 'defaults'}`)
    const consumer = redisPeer()
    consumer.createService({
      name: 'bench',
      channels: {
        [channel]: {
          group: 'bench',
          // The stream is filled before the group exists: read it from the start.
          redis: { startID: '0' },
          ...(tuned ? { maxInFlight: 100 } : {}),
          handler: (payload) => seen.handle(payload.seq),
        },
      },
    })
    await consumer.start()
    await seen.done
    await seen.check()
    await consumer.stop()
    return seen.rate
  },
  async latency() {
    const channel = nextTopic('peer-latency')
    const producer = redisPeer()
    const consumer = redisPeer()
    const recorder = latencyRecorder()
    consumer.createService({
      name: 'bench',
      channels: {
        [channel]: { group: 'bench', maxInFlight: 100, handler: (p) => recorder.record(p) },
      },
    })
    await consumer.start()
    await producer.start()
    let seq = 0
    return {
      ...recorder,
      send: (sentAt) => producer.sendToChannel(channel, { ...data, sentAt, seq: seq++ }),
      close: () => Promise.all([producer.stop(), consumer.stop()]),
    }
  },
}

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
