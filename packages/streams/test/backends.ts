import { kafkaTransport } from '@switchyard/adapter-kafka'
import { memoryTransport } from '@switchyard/adapter-memory'
import { redisTransport } from '@switchyard/adapter-redis'
import { createEventBus, type EventBus, type EventEnvelope, silentLogger } from '@switchyard/core'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import { Redis } from 'ioredis'
import { Kafka, logLevel } from 'kafkajs'
import pg from 'pg'
import { memoryStore, pgStore, redisStore, type StateStore } from '../src/index.js'

export const REDIS_URL = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379'
export const KAFKA_BROKERS = process.env.SWITCHYARD_KAFKA_BROKERS ?? '127.0.0.1:9092'
export const POSTGRES_URL =
  process.env.SWITCHYARD_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/switchyard'

/** A name no other run uses. */
export function unique(label: string): string {
  return `${label}_${Math.random().toString(36).slice(2, 8)}`
}

/** A transport and a state store the scenarios run on. */
export interface Backend {
  name: string
  skip: string | undefined
  bus(): EventBus
  store(): StateStore
  dispose(): Promise<void>
}

export function memoryBackend(): Backend {
  return {
    name: 'memory',
    skip: undefined,
    bus: () =>
      createEventBus({
        transport: memoryTransport(),
        source: 'streams-test',
        logger: silentLogger,
      }),
    store: () => memoryStore(),
    dispose: async () => {},
  }
}

/** Redis transport with the Redis store. */
export async function redisBackend(): Promise<Backend> {
  const skip = await serviceOrSkip('Redis', async () => {
    const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 })
    probe.on('error', () => undefined)
    try {
      await probe.connect()
      await probe.ping()
    } finally {
      probe.disconnect()
    }
  })
  const prefix = unique('sytest')
  let client: Redis | undefined
  return {
    name: 'redis',
    skip,
    bus: () =>
      createEventBus({
        transport: redisTransport({ url: REDIS_URL, keyPrefix: prefix }),
        source: 'streams-test',
        logger: silentLogger,
      }),
    store: () => {
      client ??= new Redis(REDIS_URL)
      return redisStore({ client, keyPrefix: `${prefix}:state` })
    },
    async dispose() {
      if (client === undefined) client = new Redis(REDIS_URL)
      let cursor = '0'
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000)
        cursor = next
        if (keys.length > 0) await client.unlink(...keys)
      } while (cursor !== '0')
      client.disconnect()
    },
  }
}

/** Kafka transport (topics of 3 partitions) with the PostgreSQL store. */
export async function kafkaBackend(): Promise<Backend> {
  const skip =
    (await serviceOrSkip('Kafka', async () => {
      const admin = new Kafka({
        brokers: KAFKA_BROKERS.split(','),
        logLevel: logLevel.NOTHING,
      }).admin()
      await admin.connect()
      await admin.disconnect()
    })) ??
    (await serviceOrSkip('PostgreSQL', async () => {
      const client = new pg.Client({ connectionString: POSTGRES_URL })
      await client.connect()
      await client.end()
    }))
  const tablePrefix = unique('sy_stream_test')
  let pool: pg.Pool | undefined
  return {
    name: 'kafka',
    skip,
    bus: () =>
      createEventBus({
        transport: kafkaTransport({
          brokers: KAFKA_BROKERS,
          logLevel: 'nothing',
          partitions: 3,
          heartbeatIntervalMs: 500,
          sessionTimeoutMs: 6_000,
        }),
        source: 'streams-test',
        logger: silentLogger,
      }),
    store: () => {
      pool ??= new pg.Pool({ connectionString: POSTGRES_URL, max: 4 })
      return pgStore({ pool, tablePrefix })
    },
    async dispose() {
      if (pool === undefined) return
      await pool.query(
        `DROP TABLE IF EXISTS ${tablePrefix}_state, ${tablePrefix}_outbox, ${tablePrefix}_seen`,
      )
      await pool.end()
    },
  }
}

/** Records the events of a topic, by id (a redelivered result counts once). */
export async function collect(
  bus: EventBus,
  topic: string,
): Promise<{ events: Map<string, EventEnvelope>; close(): Promise<void> }> {
  const events = new Map<string, EventEnvelope>()
  const sub = await bus.subscribe(
    topic,
    (event) => {
      events.set(event.id, event)
    },
    { group: unique('collect'), startAt: 'earliest' },
  )
  return { events, close: () => sub.close() }
}

/** Waits for a condition, with a generous deadline for a busy machine. */
export function until(
  condition: () => boolean,
  message: string,
  describe?: () => string,
  timeoutMs = 60_000,
) {
  return waitUntil(condition, {
    timeoutMs,
    intervalMs: 20,
    message,
    ...(describe === undefined ? {} : { describe }),
  })
}

const T0 = Date.UTC(2026, 0, 1)

/** An input event at `T0 + seconds`: keyed, typed, with an id unique to the run. */
export function at(run: string, key: string, seconds: number, type = 'tick', data: object = {}) {
  return {
    id: `${run}-${key}-${type}-${seconds}`,
    type,
    time: new Date(T0 + seconds * 1_000).toISOString(),
    partitionkey: key,
    data: { key, n: seconds, ...data },
  }
}

/** Seconds since T0 of an ISO time or epoch ms. */
export function sec(value: string | number): number {
  const ms = typeof value === 'number' ? value : Date.parse(value)
  return (ms - T0) / 1_000
}
