// Event store figures on real PostgreSQL, each beside a bare `pg` loop doing the same database
// work and beside Emmett's PostgreSQL event store (@event-driven-io/emmett-postgresql), all on
// one database made for the run:
//   1. appends of 1 event each, round-robin over 100 streams, with the expected version;
//   2. appends of 100 events each over 100 streams;
//   3. readAll catch-up: every event of the run, in pages of 1000.
// Ours runs with the outbox off beside Emmett (which has none) and once more with it on.
// The database runs with synchronous_commit off unless SWITCHYARD_BENCH_FSYNC=1 (see below).
// Contenders take turns in rounds (the order rotating), so a neighbour's burst of load on this
// shared machine falls on all of them alike instead of on whichever ran at that moment.
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
      // Without FORCE first: terminating a pool's idle connection makes that pool emit an
      // 'error' (57P01), which kills the process when the pool has no listener (Emmett's do
      // not). Pools that were closed let go of their connections within moments.
      for (let i = 0; ; i++) {
        try {
          await client.query(`DROP DATABASE IF EXISTS ${name}${i === 20 ? ' WITH (FORCE)' : ''}`)
          break
        } catch (error) {
          if (error.code !== '55006' || i === 20) throw error
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      }
      await client.end()
    },
  }
}

const rate = (count, ms) => (count * 1000) / ms

const ROUNDS = 10

/**
 * Runs the contenders in turns: `ROUNDS` rounds, each contender once per round (the order
 * rotating), and returns each one's rate over its own time.
 */
async function takeTurns(contenders) {
  const spent = contenders.map(() => 0)
  const counts = contenders.map(() => 0)
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const i = (k + round) % contenders.length
      const start = performance.now()
      counts[i] += await contenders[i](round)
      spent[i] += performance.now() - start
    }
  }
  return contenders.map((_, i) => rate(counts[i], spent[i]))
}

const events = (size, from) =>
  Array.from({ length: size }, (_, j) => ({ type: 'leave.approved', data: data(from + j) }))

/** Our store: appends of `size` events, round-robin over the streams, with the expected version. */
function oursAppend(store, prefix, size) {
  const versions = new Array(STREAMS).fill(0)
  let r = 0
  return async (appends) => {
    for (const end = r + appends; r < end; r++) {
      const s = r % STREAMS
      await store.append(`${prefix}-${s}`, events(size, r * size), { expectedVersion: versions[s] })
      versions[s] += size
    }
    return size * appends
  }
}

function emmettAppend(es, prefix, size) {
  const versions = new Array(STREAMS).fill(0n)
  let r = 0
  return async (appends) => {
    for (const end = r + appends; r < end; r++) {
      const s = r % STREAMS
      const result = await es.appendToStream(`${prefix}-${s}`, events(size, r * size), {
        expectedStreamVersion: versions[s],
      })
      versions[s] = result.nextExpectedStreamVersion
    }
    return size * appends
  }
}

/**
 * The same events with plain INSERTs: the same envelopes as the store keeps (built by core's
 * createEvent, with the aggregate id as subject and partition key and its type as extension, as
 * the store does), one INSERT per append into a table of id, stream, version, type and envelope;
 * with `outbox`, BEGIN + that INSERT + the outbox row (binary-encoded, as the outbox does) +
 * COMMIT, into a table of its own (as ours writes another schema), so each reader reads only its
 * own appends. No version check, no function, no notification.
 */
async function bareAppend(pool, prefix, size, outbox = false) {
  const versions = new Array(STREAMS).fill(0)
  const client = await pool.connect()
  const table = outbox ? 'bare_events_outbox' : 'bare_events'
  let r = 0
  const append = async (appends) => {
    for (const end = r + appends; r < end; r++) {
      const s = r % STREAMS
      const values = []
      const params = []
      const rows = []
      for (let j = 0; j < size; j++) {
        const event = createEvent(
          { type: 'leave.approved', data: data(r * size + j) },
          { source: 'bench' },
        )
        event.subject = String(s)
        event.partitionkey = String(s)
        event.extensions = { aggregatetype: prefix }
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
      const insert = `INSERT INTO ${table} (id, stream_id, stream_version, type, envelope) VALUES ${values.join(', ')}`
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
    return size * appends
  }
  append.release = () => client.release()
  return append
}

/** Readers: each call reads the whole global order once, in pages of `PAGE`. */
function oursRead(store) {
  return async () => {
    let from = 1
    let count = 0
    for (;;) {
      const page = await store.readAll({ from, limit: PAGE })
      count += page.events.length
      from = page.nextPosition
      if (page.caughtUp) return count
    }
  }
}

function emmettRead(execute) {
  return async () => {
    let after = 0n
    let count = 0
    for (;;) {
      const page = await readMessagesBatch(execute, { after, batchSize: PAGE })
      count += page.messages.length
      after = page.currentGlobalPosition
      if (!page.areMessagesLeft) return count
    }
  }
}

function bareRead(pool) {
  return async () => {
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
  }
}

const BARE_TABLE = `(position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id text NOT NULL UNIQUE,
  stream_id text NOT NULL, stream_version bigint NOT NULL, type text NOT NULL,
  envelope jsonb NOT NULL, UNIQUE (stream_id, stream_version))`

export default async function ({ report, quick }) {
  const db = await createDatabase()
  const driver = pgDriver({ connectionString: db.url, max: 4 })
  const pool = new pg.Pool({ connectionString: db.url, max: 4 })
  pool.on('error', () => undefined)
  const emmett = getPostgreSQLEventStore(db.url)
  const dumbo = await emmettExecutor(db.url)
  try {
    const store = createEventStore({ driver, schema: 'es_bench', outbox: false, source: 'bench' })
    const withOutbox = createEventStore({ driver, schema: 'es_outbox', source: 'bench' })
    await store.migrate()
    await withOutbox.migrate()
    await emmett.schema.migrate()
    await pool.query(`CREATE TABLE bare_events ${BARE_TABLE};
      CREATE TABLE bare_events_outbox ${BARE_TABLE};
      CREATE TABLE bare_outbox (seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id text NOT NULL UNIQUE, topic text NOT NULL, headers jsonb NOT NULL, payload bytea NOT NULL)`)
    const run = async (prefix, size, appends) => {
      const plain = await bareAppend(pool, prefix, size)
      const outbox = await bareAppend(pool, prefix, size, true)
      const n = appends / ROUNDS
      try {
        const [o, b, e, x, bx] = await takeTurns([
          oursAppend(store, prefix, size).bind(null, n),
          plain.bind(null, n),
          emmettAppend(emmett, prefix, size).bind(null, n),
          oursAppend(withOutbox, prefix, size).bind(null, n),
          outbox.bind(null, n),
        ])
        return { o, b, e, x, bx }
      } finally {
        plain.release()
        outbox.release()
      }
    }
    // Warm-up: connections, prepared plans, JIT, on streams of their own.
    await run('warm', 1, 200)
    const unit = 'events/s'
    const scenario = async (label, size, appends) => {
      const { o, b, e, x, bx } = await run(size === 1 ? 'one' : 'batch', size, appends)
      report({
        scenario: label,
        ours: o,
        raw: b,
        rawLabel: 'bare pg INSERT',
        unit,
        target: '>= 0.8x',
      })
      report({ scenario: label, ours: o, raw: e, rawLabel: 'Emmett', unit, target: 'ahead' })
      report({
        scenario: `${label}, outbox on`,
        ours: x,
        raw: bx,
        rawLabel: 'bare pg BEGIN+2 INSERT+COMMIT',
        unit,
        target: '>= 0.8x',
      })
    }
    await scenario('append 1 event x 100 streams', 1, quick ? 500 : 2_000)
    await scenario('append batches of 100 x 100 streams', 100, quick ? 20 : 100)

    const [or, br, er] = await takeTurns([
      oursRead(store),
      bareRead(pool),
      emmettRead(dumbo.execute),
    ])
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
