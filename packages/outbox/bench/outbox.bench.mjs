// Outbox relay figures on real PostgreSQL, each beside a bare `pg` loop doing the same database
// work (claim with FOR UPDATE SKIP LOCKED, mark sent, commit) in the same run:
//   1. drain rate: a backlog of keyed events (200 keys) published into the memory bus, with the
//      default settings, with `concurrency: 2`, and deleting rows on send;
//   2. commit → publish latency: single-event transactions at a steady pace, relay woken by NOTIFY,
//      from the business COMMIT returning to a memory-bus subscriber handling the event.
import { randomBytes } from 'node:crypto'
import { createMemoryBroker, memoryTransport } from '@switchyard/adapter-memory'
import { createEventBus } from '@switchyard/core'
import { createRelay, enqueue, migrate, pgDriver } from '@switchyard/outbox'
import pg from 'pg'

const URL = process.env.SWITCHYARD_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/switchyard'
// The relay's batch size for the drain figures (the default is 500).
const BATCH = 1_000
const KEYS = 200

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

async function fill(pool, table, rows) {
  for (let from = 0; from < rows; from += 5_000) {
    const client = await pool.connect()
    await client.query('BEGIN')
    const events = Array.from({ length: Math.min(5_000, rows - from) }, (_, j) => ({
      type: 'order.placed',
      partitionkey: `customer-${((from + j) * 7919) % KEYS}`,
      data: { order: from + j, total: 42, lines: [{ sku: 'A-1', qty: 2 }] },
    }))
    await enqueue(client, 'orders', events, { source: 'bench', table })
    await client.query('COMMIT')
    client.release()
  }
}

// The same claim/mark/commit work with nothing around it: no lanes, no decoding, no bus.
async function rawBatch(client, table, mark = 'update') {
  await client.query('BEGIN')
  await client.query('SET LOCAL synchronous_commit = off')
  const { rows } = await client.query(
    `SELECT seq, id, topic, partition_key, headers, payload FROM ${table}
     WHERE sent_at IS NULL AND parked_at IS NULL AND available_at <= now()
     ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [BATCH],
  )
  if (rows.length > 0) {
    const seqs = rows.map((r) => r.seq)
    if (mark === 'update') {
      await client.query(`UPDATE ${table} SET sent_at = now() WHERE seq = ANY($1::bigint[])`, [
        seqs,
      ])
    } else {
      await client.query(`DELETE FROM ${table} WHERE seq = ANY($1::bigint[])`, [seqs])
    }
  }
  await client.query('COMMIT')
  return rows
}

async function drop(pool, table) {
  await pool.query(`DROP TABLE IF EXISTS ${table}; DROP FUNCTION IF EXISTS ${table}_notify()`)
}

async function freshTable(pool, rows) {
  const table = `outbox_bench_${randomBytes(3).toString('hex')}`
  await migrate(pool, { table })
  await fill(pool, table, rows)
  await pool.query(`ANALYZE ${table}`)
  return table
}

/** Events/s of our relay draining a backlog into the memory bus. */
async function oursDrain(pool, rows, options) {
  const table = await freshTable(pool, rows)
  const bus = createEventBus({
    transport: memoryTransport({
      broker: createMemoryBroker(),
      maxQueueSize: rows * 2,
      historySize: 0,
    }),
    source: 'bench',
  })
  const relay = createRelay({
    driver: pgDriver({ pool }),
    bus,
    table,
    batchSize: BATCH,
    ...options,
  })
  const started = performance.now()
  const published = await relay.drain()
  const rate = published / ((performance.now() - started) / 1000)
  await bus.close()
  await drop(pool, table)
  if (published !== rows) throw new Error(`relay drained ${published} of ${rows}`)
  return rate
}

/** Events/s of bare pg loops (one per connection) doing the claim/mark work on a backlog. */
async function rawDrain(pool, rows, { mark = 'update', connections = 1 } = {}) {
  const table = await freshTable(pool, rows)
  const clients = await Promise.all(Array.from({ length: connections }, () => pool.connect()))
  const started = performance.now()
  const counts = await Promise.all(
    clients.map(async (client) => {
      let done = 0
      for (;;) {
        const batch = await rawBatch(client, table, mark)
        if (batch.length === 0) return done
        done += batch.length
      }
    }),
  )
  const done = counts.reduce((a, b) => a + b, 0)
  const rate = done / ((performance.now() - started) / 1000)
  for (const client of clients) client.release()
  await drop(pool, table)
  if (done !== rows) throw new Error(`raw loop drained ${done} of ${rows}`)
  return rate
}

// Latency runs from the moment COMMIT returns to the writer until the event is delivered (ours:
// handled by a memory-bus subscriber; raw: claimed and marked). The notification may beat the
// COMMIT reply, so both times are recorded per event and negative gaps count as 0.
const gaps = (committed, done) =>
  [...done].map(([id, at]) => Math.max(0, at - committed.get(id))).filter((ms) => !Number.isNaN(ms))

async function writeEvents(writer, table, events, committed) {
  for (let i = 0; i < events; i++) {
    await writer.query('BEGIN')
    const input = { type: 'order.placed', partitionkey: `c${i % KEYS}`, data: { i } }
    const [event] = await enqueue(writer, 'orders', input, { source: 'bench', table })
    await writer.query('COMMIT')
    committed.set(event.id, performance.now())
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

async function waitCount(map, n) {
  const deadline = Date.now() + 20_000
  while (map.size < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
}

async function latency(pool, events) {
  const writer = await pool.connect()

  const table = `outbox_bench_${randomBytes(3).toString('hex')}`
  await migrate(pool, { table })
  const committed = new Map()
  const handled = new Map()
  const bus = createEventBus({
    transport: memoryTransport({ broker: createMemoryBroker() }),
    source: 'bench',
  })
  await bus.subscribe('orders', (event) => void handled.set(event.id, performance.now()), {
    group: 'latency',
  })
  const relay = createRelay({ driver: pgDriver({ pool }), bus, table, pollIntervalMs: 60_000 })
  await relay.start()
  await writeEvents(writer, table, events, committed)
  await waitCount(handled, events)
  await relay.stop()
  await bus.close()
  const ours = gaps(committed, handled)

  // Raw: a LISTEN connection and the same claim/update transaction on each notification.
  const rawTable = `${table}_raw`
  await migrate(pool, { table: rawTable })
  const rawCommitted = new Map()
  const claimed = new Map()
  const listener = await pool.connect()
  const worker = await pool.connect()
  let busy = false
  let again = false
  const work = async () => {
    if (busy) {
      again = true
      return
    }
    busy = true
    do {
      again = false
      for (const row of await rawBatch(worker, rawTable)) claimed.set(row.id, performance.now())
    } while (again)
    busy = false
  }
  listener.on('notification', () => void work())
  await listener.query(`LISTEN "${rawTable}_ready"`)
  await writeEvents(writer, rawTable, events, rawCommitted)
  await waitCount(claimed, events)
  await listener.query(`UNLISTEN "${rawTable}_ready"`)
  listener.release()
  worker.release()
  writer.release()
  await drop(pool, table)
  await drop(pool, rawTable)
  return { ours, raw: gaps(rawCommitted, claimed) }
}

export default async function bench({ report, quick }) {
  const pool = new pg.Pool({ connectionString: URL, max: 6 })
  pool.on('error', () => undefined)
  try {
    await pool.query('SELECT 1')
  } catch (error) {
    console.log(
      `  skipped: PostgreSQL not reachable at ${URL} (${error.message}); run tooling/services/postgres.sh`,
    )
    await pool.end()
    return
  }
  try {
    // Other work on a shared machine skews single runs: each side runs `rounds` times,
    // alternating, and the best run of each is reported.
    const rows = quick ? 20_000 : 50_000
    const rounds = quick ? 1 : 2
    const label = `${rows.toLocaleString('en-US')} keyed rows, PostgreSQL → memory bus`
    const drains = [
      ['relay drain, sent rows kept 24 h (default)', {}, {}],
      ['relay drain, concurrency 2', { concurrency: 2 }, { connections: 2 }],
      ['relay drain, retentionMs 0 (delete on send)', { retentionMs: 0 }, { mark: 'delete' }],
    ]
    for (const [scenario, options, rawOptions] of drains) {
      let ours = 0
      let raw = 0
      for (let round = 0; round < rounds; round++) {
        ours = Math.max(ours, await oursDrain(pool, rows, options))
        raw = Math.max(raw, await rawDrain(pool, rows, rawOptions))
      }
      const loops = rawOptions.connections ? ` × ${rawOptions.connections}` : ''
      report({
        scenario: `${scenario}, ${label}`,
        unit: 'events/s',
        ours,
        raw,
        rawLabel: `bare pg claim/${rawOptions.mark ?? 'update'} loop${loops}`,
        higherIsBetter: true,
        target: '>= 20 000 events/s',
      })
    }
    const events = quick ? 300 : 1_000
    const lat = await latency(pool, events)
    for (const p of [50, 99]) {
      report({
        scenario: `commit → publish latency p${p} (NOTIFY, ${events} single-event commits)`,
        unit: 'ms',
        ours: percentile(lat.ours, p),
        raw: percentile(lat.raw, p),
        rawLabel: 'bare pg LISTEN + claim/update',
        higherIsBetter: false,
        target: p === 99 ? '< 100 ms' : undefined,
      })
    }
  } finally {
    await pool.end()
  }
}
