import { randomBytes } from 'node:crypto'
import { createMemoryBroker, type MemoryBroker, memoryTransport } from '@switchyard/adapter-memory'
import type { EventInput } from '@switchyard/core'
import {
  createEventBus,
  type EventBus,
  type EventEnvelope,
  type Middleware,
} from '@switchyard/core'
import { serviceOrSkip } from '@switchyard/testkit'
import pg from 'pg'
import { expect } from 'vitest'
import type { OutboxDriver } from '../src/index.js'

/** Where the PostgreSQL tests connect. */
export const POSTGRES_URL =
  process.env.SWITCHYARD_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/switchyard'

/**
 * Resolves undefined when PostgreSQL answers, else a visible skip reason; under `CI` a missing
 * server fails the run (testkit's `serviceOrSkip`).
 */
export function postgresOrSkip(): Promise<string | undefined> {
  return serviceOrSkip('PostgreSQL', async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3_000 })
    try {
      await client.connect()
      await client.query('SELECT 1')
    } catch (error) {
      const hint = 'start it with tooling/services/postgres.sh or set SWITCHYARD_POSTGRES_URL'
      throw new Error(`${POSTGRES_URL}: ${(error as Error).message}; ${hint}`)
    } finally {
      await client.end().catch(() => undefined)
    }
  })
}

/** A table name no other test run uses. */
export function uniqueTable(prefix = 'outbox_t'): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`
}

/** Waits until `check` returns true, polling; throws with `what` after the deadline. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** A producer bus for relays and a consumer that records what it handles, over one memory broker. */
export interface Harness {
  broker: MemoryBroker
  /** A new producer bus on the shared broker (one per relay). */
  producer(middleware?: Middleware[]): EventBus & { transport: ReturnType<typeof memoryTransport> }
  /** Every handled event, in handling order. */
  received: EventEnvelope[]
  /** Topic of each entry of `received`. */
  topics: string[]
  /** Handled count per event id. */
  counts: Map<string, number>
  close(): Promise<void>
}

/** Starts a consumer on `topic` (group `check`, in order) and returns the harness. */
export async function harness(
  topics: string[],
  consumerMiddleware: Middleware[] = [],
): Promise<Harness> {
  const broker = createMemoryBroker()
  const buses: EventBus[] = []
  const consumer = createEventBus({
    transport: memoryTransport({ broker, maxQueueSize: 1_000_000, historySize: 0 }),
    source: 'consumer',
    middleware: consumerMiddleware,
  })
  buses.push(consumer)
  const received: EventEnvelope[] = []
  const receivedTopics: string[] = []
  const counts = new Map<string, number>()
  for (const topic of topics) {
    await consumer.subscribe(
      topic,
      (event) => {
        received.push(event)
        receivedTopics.push(topic)
        counts.set(event.id, (counts.get(event.id) ?? 0) + 1)
      },
      { group: 'check', concurrency: 1, prefetch: 1_000 },
    )
  }
  return {
    broker,
    received,
    topics: receivedTopics,
    counts,
    producer(middleware = []) {
      const transport = memoryTransport({ broker, maxQueueSize: 1_000_000, historySize: 0 })
      // The relay's own backoff and parking are under test: the bus does not retry first.
      const bus = createEventBus({ transport, source: 'relay', middleware, publishRetry: false })
      buses.push(bus)
      return bus as EventBus & { transport: typeof transport }
    },
    async close() {
      await Promise.all(buses.map((b) => b.close()))
    },
  }
}

export const count = async (driver: OutboxDriver, sql: string): Promise<number> =>
  Number(((await driver.query(sql)).rows[0] as { n: number | string }).n)

/** `n` events numbered from `from`, keyed by `key(i)` (undefined: no key). */
export const numbered = (
  n: number,
  key: (i: number) => string | undefined,
  from = 0,
): EventInput[] =>
  Array.from({ length: n }, (_, j) => {
    const i = from + j
    const partitionkey = key(i)
    return {
      type: 'order.placed',
      data: { i },
      ...(partitionkey === undefined ? {} : { partitionkey }),
    }
  })

/** Asserts every id was handled once and, per (topic, key), in increasing `data.i`. */
export function expectOrderedOnce(h: Harness, total: number): void {
  expect(h.received).toHaveLength(total)
  expect(new Set(h.received.map((e) => e.id)).size).toBe(total)
  const last = new Map<string, number>()
  let keyed = 0
  h.received.forEach((event, index) => {
    if (event.partitionkey === undefined) return
    keyed++
    const key = `${h.topics[index]}|${event.partitionkey}`
    const i = (event.data as { i: number }).i
    const previous = last.get(key)
    if (previous !== undefined && i <= previous) {
      throw new Error(`Order broken for ${key}: ${i} after ${previous}`)
    }
    last.set(key, i)
  })
  expect(keyed).toBeGreaterThan(0)
}

/** Drops an outbox table and its trigger function (DROP TABLE alone leaves the function behind). */
export async function dropOutbox(
  db: { query(text: string): Promise<unknown> },
  table: string,
): Promise<void> {
  await db.query(`DROP TABLE IF EXISTS ${table}`)
  await db.query(`DROP FUNCTION IF EXISTS ${table}_notify()`)
}
