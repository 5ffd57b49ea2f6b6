// Event store figures on real PostgreSQL, each beside a bare `pg` loop doing the same database
// work and beside Emmett's PostgreSQL event store (@event-driven-io/emmett-postgresql), all on
// one database made for the run:
//   1. appends of 1 event each, round-robin over 100 streams, with the expected version;
//   2. appends of 100 events each over 100 streams;
//   3. readAll catch-up: every event of the run, in pages of 1000.
// Ours runs with the outbox off beside Emmett (which has none) and once more with it on.
// The database runs with synchronous_commit off unless SWITCHYARD_BENCH_FSYNC=1 (see below).
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { getPostgreSQLEventStore, readMessagesBatch } from '@event-driven-io/emmett-postgresql'
import { binaryCodec, createEvent } from '@switchyard/core'
import { createEventStore, pgDriver } from '@switchyard/event-store'
import pg from 'pg'

const SERVER =
  process.env.DATABASE_URL ??
  process.env.SWITCHYARD_POSTGRES_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres'
const STREAMS = 100
const PAGE = 1_000
const codec = binaryCodec()

const data = (i) => ({ employee: `e${i % STREAMS}`, department: 'eng', days: (i % 5) + 1 })

/** dumbo is Emmett's own database layer; load the copy its pongo peer resolves. */
async function emmettExecutor(url) {
  const require = createRequire(import.meta.resolve('@event-driven-io/pongo'))
  const { dumbo } = await import(require.resolve('@event-driven-io/dumbo'))
  return dumbo({ connectionString: url })
}

async function createDatabase() {
  const name = `es_bench_${randomBytes(3).toString('hex')}`
  const admin = new pg.Client({ connectionString: SERVER })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  // Each commit's WAL flush is the same for all three and, on a shared machine, varies by two
  // orders of magnitude with the neighbours' disk traffic; off, the figures compare the work each
  // does. SWITCHYARD_BENCH_FSYNC=1 keeps the server's setting.
  if (process.env.SWITCHYARD_BENCH_FSYNC !== '1') {
    await admin.query(`ALTER DATABASE ${name} SET synchronous_commit = off`)
  }
  await admin.end()
  const url = new URL(SERVER)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: SERVER })
      await client.connect()
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await client.end()
    },
  }
}

const rate = (count, ms) => (count * 1000) / ms

async function timed(fn) {
  const start = performance.now()
  const count = await fn()
  return rate(count, performance.now() - start)
}

/** Our store: appends of `size` events, `rounds` times, round-robin over the streams. */
async function oursAppend(store, prefix, size, rounds) {
  const versions = new Array(STREAMS).fill(0)
  return timed(async () => {
    for (let r = 0; r < rounds; r++) {
      const s = r % STREAMS
      const events = Array.from({ length: size }, (_, j) => ({
        type: 'leave.approved',
        data: data(r * size + j),
      }))
      await store.append(`${prefix}-${s}`, events, { expectedVersion: versions[s] })
      versions[s] += size
    }
    return size * rounds
  })
}

async function emmettAppend(es, prefix, size, rounds) {
  const versions = new Array(STREAMS).fill(0n)
  return timed(async () => {
    for (let r = 0; r < rounds; r++) {
      const s = r % STREAMS
      const events = Array.from({ length: size }, (_, j) => ({
        type: 'leave.approved',
        data: data(r * size + j),
      }))
      const result = await es.appendToStream(`${prefix}-${s}`, events, {
        expectedStreamVersion: versions[s],
      })
      versions[s] = result.nextExpectedStreamVersion
    }
    return size * rounds
  })
}

/**
 * The same events with plain INSERTs: the same envelopes (built by core's createEvent, as the
 * store does), one INSERT per append into a table of id, stream, version, type and envelope; with
 * `outbox`, BEGIN + that INSERT + the outbox row (binary-encoded, as the outbox does) + COMMIT.
 * No version check, no function, no notification.
 */
async function bareAppend(pool, prefix, size, rounds, outbox = false) {
  const versions = new Array(STREAMS).fill(0)
  const client = await pool.connect()
  try {
    return await timed(async () => {
      for (let r = 0; r < rounds; r++) {
        const s = r % STREAMS
        const values = []
        const params = []
        const rows = []
        for (let j = 0; j < size; j++) {
          const event = createEvent(
            { type: 'leave.approved', data: data(r * size + j) },
            { source: 'bench' },
          )
          const p = params.length
          values.push(`($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5}::text::jsonb)`)
          params.push(
            event.id,
            `${prefix}-${s}`,
            versions[s] + j + 1,
            event.type,
            JSON.stringify(event),
          )
          rows.push(event)
        }
        versions[s] += size
        const insert = `INSERT INTO bare_events (id, stream_id, stream_version, type, envelope) VALUES ${values.join(', ')}`
        if (!outbox) {
          await client.query(insert, params)
          continue
        }
        await client.query('BEGIN')
        await client.query(insert, params)
        const out = []
        const outParams = []
        for (const event of rows) {
          const { headers, body } = codec.encode(event)
          const p = outParams.length
          out.push(`($${p + 1}, $${p + 2}, $${p + 3}::text::jsonb, $${p + 4}::bytea)`)
          outParams.push(event.id, 'leave', JSON.stringify(headers), body)
        }
        await client.query(
          `INSERT INTO bare_outbox (id, topic, headers, payload) VALUES ${out.join(', ')}`,
          outParams,
        )
        await client.query('COMMIT')
      }
      return size * rounds
    })
  } finally {
    client.release()
  }
}

async function oursRead(store) {
  return timed(async () => {
    let from = 1
    let count = 0
    for (;;) {
      const page = await store.readAll({ from, limit: PAGE })
      count += page.events.length
      from = page.nextPosition
      if (page.caughtUp) return count
    }
  })
}

async function emmettRead(execute) {
  return timed(async () => {
    let after = 0n
    let count = 0
    for (;;) {
      const page = await readMessagesBatch(execute, { after, batchSize: PAGE })
      count += page.messages.length
      after = page.currentGlobalPosition
      if (!page.areMessagesLeft) return count
    }
  })
}

async function bareRead(pool) {
  return timed(async () => {
    let from = 1
    let count = 0
    for (;;) {
      const { rows } = await pool.query(
        `SELECT position, id, stream_id, stream_version, type, envelope FROM bare_events
         WHERE position >= $1 ORDER BY position LIMIT $2`,
        [from, PAGE],
      )
      count += rows.length
      if (rows.length < PAGE) return count
      from = Number(rows[rows.length - 1].position) + 1
    }
  })
}

export default async function ({ report, quick }) {
  const db = await createDatabase()
  const driver = pgDriver({ connectionString: db.url, max: 4 })
  const pool = new pg.Pool({ connectionString: db.url, max: 4 })
  const emmett = getPostgreSQLEventStore(db.url)
  const dumbo = await emmettExecutor(db.url)
  try {
    const store = createEventStore({ driver, schema: 'es_bench', outbox: false, source: 'bench' })
    const withOutbox = createEventStore({ driver, schema: 'es_outbox', source: 'bench' })
    await store.migrate()
    await withOutbox.migrate()
    await emmett.schema.migrate()
    await pool.query(`CREATE TABLE bare_events (
      position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id text NOT NULL UNIQUE,
      stream_id text NOT NULL, stream_version bigint NOT NULL, type text NOT NULL,
      envelope jsonb NOT NULL, UNIQUE (stream_id, stream_version));
      CREATE TABLE bare_outbox (seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id text NOT NULL UNIQUE, topic text NOT NULL, headers jsonb NOT NULL, payload bytea NOT NULL)`)
    // Warm-up: connections, prepared plans, JIT, on separate streams.
    await oursAppend(store, 'warm', 1, 200)
    await oursAppend(withOutbox, 'warm', 1, 200)
    await emmettAppend(emmett, 'warm', 1, 200)
    await bareAppend(pool, 'warm', 1, 200)
    await bareAppend(pool, 'warm-outbox', 1, 200, true)

    const singles = quick ? 500 : 2_000
    const o1 = await oursAppend(store, 'one', 1, singles)
    const b1 = await bareAppend(pool, 'one', 1, singles)
    const e1 = await emmettAppend(emmett, 'one', 1, singles)
    const x1 = await oursAppend(withOutbox, 'one', 1, singles)
    const bx1 = await bareAppend(pool, 'one-outbox', 1, singles, true)
    const unit = 'events/s'
    const label = 'append 1 event x 100 streams'
    report({
      scenario: label,
      ours: o1,
      raw: b1,
      rawLabel: 'bare pg INSERT',
      unit,
      target: '>= 0.8x',
    })
    report({ scenario: label, ours: o1, raw: e1, rawLabel: 'Emmett', unit, target: 'ahead' })
    report({
      scenario: `${label}, outbox on`,
      ours: x1,
      raw: bx1,
      rawLabel: 'bare pg BEGIN+2 INSERT+COMMIT',
      unit,
      target: '>= 0.8x',
    })

    const batches = quick ? 20 : 100
    const o100 = await oursAppend(store, 'batch', 100, batches)
    const b100 = await bareAppend(pool, 'batch', 100, batches)
    const e100 = await emmettAppend(emmett, 'batch', 100, batches)
    const x100 = await oursAppend(withOutbox, 'batch', 100, batches)
    const bx100 = await bareAppend(pool, 'batch-outbox', 100, batches, true)
    const batchLabel = 'append batches of 100 x 100 streams'
    report({
      scenario: batchLabel,
      ours: o100,
      raw: b100,
      rawLabel: 'bare pg INSERT',
      unit,
      target: '>= 0.8x',
    })
    report({
      scenario: batchLabel,
      ours: o100,
      raw: e100,
      rawLabel: 'Emmett',
      unit,
      target: 'ahead',
    })
    report({
      scenario: `${batchLabel}, outbox on`,
      ours: x100,
      raw: bx100,
      rawLabel: 'bare pg BEGIN+2 INSERT+COMMIT',
      unit,
      target: '>= 0.8x',
    })

    const or = await oursRead(store)
    const br = await bareRead(pool)
    const er = await emmettRead(dumbo.execute)
    const readLabel = `readAll catch-up, pages of ${PAGE}`
    report({
      scenario: readLabel,
      ours: or,
      raw: br,
      rawLabel: 'bare pg SELECT',
      unit,
      target: '>= 0.8x',
    })
    report({ scenario: readLabel, ours: or, raw: er, rawLabel: 'Emmett', unit, target: 'ahead' })
  } finally {
    await emmett.close()
    await dumbo.close()
    await pool.end()
    await driver.close()
    await db.drop()
  }
}
