import { randomBytes } from 'node:crypto'
import { serviceOrSkip } from '@switchyard/testkit'
import pg from 'pg'
import {
  createEventStore,
  type EventStore,
  type EventStoreOptions,
  type OutboxDriver,
} from '../src/index.js'

/** The server the PostgreSQL tests use; each test file creates a database of its own on it. */
export const DATABASE_URL =
  process.env.DATABASE_URL ??
  process.env.SWITCHYARD_POSTGRES_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres'

/** A database made for one test file, dropped by `drop()`. */
export interface TestDatabase {
  url: string
  drop(): Promise<void>
}

/**
 * Creates a database with a random name on the server of `DATABASE_URL`; resolves with a skip
 * reason when the server does not answer (a failure under `CI`).
 */
export async function testDatabase(): Promise<TestDatabase | string> {
  const skip = await serviceOrSkip('PostgreSQL', async () => {
    const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3_000 })
    try {
      await client.connect()
      await client.query('SELECT 1')
    } finally {
      await client.end().catch(() => undefined)
    }
  })
  if (skip !== undefined) return `${skip} (set DATABASE_URL)`
  const name = `es_test_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: DATABASE_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(DATABASE_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: DATABASE_URL })
      await client.connect()
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await client.end()
    },
  }
}

/** A schema name no other test uses. */
export function uniqueSchema(prefix = 'es'): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`
}

/** A migrated store in a schema of its own, with its outbox table in that schema too. */
export async function freshStore(
  driver: OutboxDriver,
  options: Partial<EventStoreOptions> = {},
): Promise<{ store: EventStore; schema: string; outbox: string }> {
  const schema = uniqueSchema()
  const outbox = `${schema}.outbox`
  const store = createEventStore({
    driver,
    schema,
    source: 'test',
    outbox: { table: outbox },
    pollIntervalMs: 200,
    ...options,
  })
  await store.migrate()
  return { store, schema, outbox }
}

/** Waits until `check` holds, polling; throws naming `what` after the deadline. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** A promise with its resolve function. */
export function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

/** Counts rows of a query returning `n`. */
export async function count(driver: OutboxDriver, sql: string): Promise<number> {
  return Number(((await driver.query(sql)).rows[0] as { n: string | number }).n)
}
