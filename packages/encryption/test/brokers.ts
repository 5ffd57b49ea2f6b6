import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { kafkaTransport } from '@switchyard/adapter-kafka'
import { createMemoryBroker, memoryTransport } from '@switchyard/adapter-memory'
import { natsTransport } from '@switchyard/adapter-nats'
import { redisTransport } from '@switchyard/adapter-redis'
import type { Transport } from '@switchyard/core/transport'
import { serviceOrSkip } from '@switchyard/testkit'
import { Redis } from 'ioredis'
import { Kafka, logLevel } from 'kafkajs'

const REDIS_URL = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379'
const NATS_URL = process.env.SWITCHYARD_NATS_URL ?? 'nats://127.0.0.1:4222'
const KAFKA_BROKERS = process.env.SWITCHYARD_KAFKA_BROKERS ?? '127.0.0.1:9092'

/** A name no other run uses. */
export function unique(label: string): string {
  return `${label}-${Math.random().toString(36).slice(2, 8)}`
}

/** One stored record as the broker keeps it: its attribute fields or headers, and its body. */
export interface RawRecord {
  readonly headers: Record<string, string>
  readonly body: Buffer
}

/** A transport under test, and how to read what its broker stored without Switchyard. */
export interface Broker {
  readonly name: 'memory' | 'redis' | 'nats' | 'kafka'
  readonly skip: string | undefined
  make(): Transport
  /** The records of `topic` read with the broker's own client; undefined for memory. */
  readonly raw: ((topic: string, count: number) => Promise<RawRecord[]>) | undefined
  cleanup(): Promise<void>
}

const redisPrefix = unique('sy-enc')
const natsPrefix = `SYT_${unique('enc').replace('-', '_')}_`

/** Redis: `XRANGE` over the topic's stream, as `redis-cli XRANGE` would show it. */
async function redisRaw(topic: string): Promise<RawRecord[]> {
  const client = new Redis(REDIS_URL)
  try {
    const entries = await client.xrangeBuffer(`{${redisPrefix}:${topic}}:stream`, '-', '+')
    return entries.map(([, fields]) => {
      const headers: Record<string, string> = {}
      let body: Buffer = Buffer.alloc(0)
      for (let i = 0; i < fields.length; i += 2) {
        const name = fields[i]!.toString('utf8')
        if (name === 'data') body = fields[i + 1]!
        else headers[name] = fields[i + 1]!.toString('utf8')
      }
      return { headers, body }
    })
  } finally {
    client.disconnect()
  }
}

/** NATS: the stream that stores the subject, read message by message with JetStream's get. */
async function natsRaw(topic: string, count: number): Promise<RawRecord[]> {
  const nc = await connect({ servers: NATS_URL, timeout: 2_000, reconnect: false })
  try {
    const jsm = await jetstreamManager(nc)
    const stream = await jsm.streams.find(topic)
    const info = await jsm.streams.info(stream)
    const records: RawRecord[] = []
    for (
      let seq = info.state.first_seq;
      records.length < count && seq <= info.state.last_seq;
      seq++
    ) {
      const message = await jsm.streams.getMessage(stream, { seq })
      if (message === null) continue
      const headers: Record<string, string> = {}
      for (const [name, values] of message.header ?? []) headers[name] = values[0] ?? ''
      records.push({ headers, body: Buffer.from(message.data) })
    }
    return records
  } finally {
    await nc.close()
  }
}

/** Kafka: a plain kafkajs consumer of its own group, from the beginning of the topic. */
async function kafkaRaw(topic: string, count: number): Promise<RawRecord[]> {
  const kafka = new Kafka({ brokers: KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING })
  const consumer = kafka.consumer({ groupId: unique('raw-reader'), maxWaitTimeInMs: 100 })
  const records: RawRecord[] = []
  let finish!: () => void
  const done = new Promise<void>((resolve) => {
    finish = resolve
  })
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {}
        for (const [name, value] of Object.entries(message.headers ?? {})) {
          headers[name] = Buffer.isBuffer(value) ? value.toString('utf8') : String(value)
        }
        records.push({ headers, body: message.value ?? Buffer.alloc(0) })
        if (records.length >= count) finish()
      },
    })
    const timeout = setTimeout(finish, 30_000)
    await done
    clearTimeout(timeout)
  } finally {
    await consumer.disconnect()
  }
  return records
}

async function pingRedis(): Promise<void> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.ping()
  } finally {
    client.disconnect()
  }
}

async function probeNats(): Promise<void> {
  const nc = await connect({ servers: NATS_URL, timeout: 2_000, reconnect: false })
  await nc.close()
}

async function probeKafka(): Promise<void> {
  const admin = new Kafka({
    brokers: KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  }).admin()
  try {
    await admin.connect()
    await admin.describeCluster()
  } finally {
    await admin.disconnect()
  }
}

async function deleteNatsStreams(): Promise<void> {
  const nc = await connect({ servers: NATS_URL, timeout: 2_000, reconnect: false })
  try {
    const jsm = await jetstreamManager(nc)
    for await (const name of jsm.streams.names()) {
      if (name.startsWith(natsPrefix)) await jsm.streams.delete(name)
    }
  } finally {
    await nc.close()
  }
}

async function deleteRedisKeys(): Promise<void> {
  const client = new Redis(REDIS_URL)
  try {
    const keys = await client.keys(`{${redisPrefix}:*`)
    if (keys.length > 0) await client.unlink(...keys)
  } finally {
    client.disconnect()
  }
}

/** Memory, Redis, NATS and Kafka; a missing service skips with its reason (fails under CI). */
export async function brokers(): Promise<Broker[]> {
  const [redisSkip, natsSkip, kafkaSkip] = await Promise.all([
    serviceOrSkip('Redis', pingRedis),
    serviceOrSkip('NATS', probeNats),
    serviceOrSkip('Kafka', probeKafka, { timeoutMs: 10_000 }),
  ])
  const memory = createMemoryBroker()
  return [
    {
      name: 'memory',
      skip: undefined,
      // One broker, so buses with different keys meet on it like processes on a real broker.
      make: () => memoryTransport({ broker: memory }),
      raw: undefined,
      cleanup: async () => {},
    },
    {
      name: 'redis',
      skip: redisSkip,
      make: () => redisTransport({ url: REDIS_URL, keyPrefix: redisPrefix }),
      raw: redisRaw,
      cleanup: () => (redisSkip === undefined ? deleteRedisKeys() : Promise.resolve()),
    },
    {
      name: 'nats',
      skip: natsSkip,
      make: () => natsTransport({ servers: NATS_URL, autoStreams: { prefix: natsPrefix } }),
      raw: natsRaw,
      cleanup: () => (natsSkip === undefined ? deleteNatsStreams() : Promise.resolve()),
    },
    {
      name: 'kafka',
      skip: kafkaSkip,
      make: () =>
        kafkaTransport({
          brokers: KAFKA_BROKERS,
          heartbeatIntervalMs: 150,
          sessionTimeoutMs: 6_000,
          rebalanceTimeoutMs: 10_000,
          maxWaitTimeMs: 100,
          commitIntervalMs: 100,
          logLevel: 'nothing',
        }),
      raw: kafkaRaw,
      cleanup: async () => {},
    },
  ]
}
