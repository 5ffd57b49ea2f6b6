// Outbox relay figures on real PostgreSQL, each beside a bare `pg` loop doing the same database
// work (claim with FOR UPDATE SKIP LOCKED, mark sent, commit) in the same run:
//   1. drain rate: a backlog of keyed events published into the memory bus;
//   2. commit → publish latency: single-event transactions at a steady pace, relay woken by NOTIFY,
//      measured from the business COMMIT returning to a memory-bus subscriber handling the event.
import { randomBytes } from 'node:crypto'
import { createMemoryBroker, memoryTransport } from '@switchyard/adapter-memory'
import { createEventBus } from '@switchyard/core'
import { createRelay, enqueue, migrate, pgDriver } from '@switchyard/outbox'
import pg from 'pg'

const URL = process.env.SWITCHYARD_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/switchyard'
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

// The same claim/update/commit work with nothing around it: no lanes, no decoding, no bus.
async function rawBatch(client, table) {
  await client.query('BEGIN')
  await client.query(`SET LOCAL synchronous_commit = off`)
  const { rows } = await client.query(
    `SELECT seq, id, topic, partition_key, headers, payload FROM ${table}
     WHERE sent_at IS NULL AND parked_at IS NULL AND available_at <= now()
     ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [BATCH],
  )
  if (rows.length > 0) {
    await client.query(`UPDATE ${table} SET sent_at = now() WHERE seq = ANY($1::bigint[])`, [
      rows.map((r) => r.seq),
    ])
  }
  await client.query('COMMIT')
  return rows
}

async function drainRate(pool, rows) {
  const oursTable = `outbox_bench_${randomBytes(3).toString('hex')}`
  const rawTable = `${oursTable}_raw`
  await migrate(pool, { table: oursTable })
  await migrate(pool, { table: rawTable })
  await fill(pool, oursTable, rows)
  await fill(pool, rawTable, rows)
  await pool.query(`ANALYZE ${oursTable}; ANALYZE ${rawTable}`)

  const bus = createEventBus({
    transport: memoryTransport({
      broker: createMemoryBroker(),
      maxQueueSize: rows * 2,
      historySize: 0,
    }),
    source: 'bench',
  })
  const driver = pgDriver({ pool })
  const relay = createRelay({ driver, bus, table: oursTable, batchSize: BATCH })
  let started = performance.now()
  const published = await relay.drain()
  const ours = published / ((performance.now() - started) / 1000)
  await bus.close()

  const client = await pool.connect()
  started = performance.now()
  let done = 0
  for (;;) {
    const batch = await rawBatch(client, rawTable)
    if (batch.length === 0) break
    done += batch.length
  }
  const raw = done / ((performance.now() - started) / 1000)
  client.release()
  await pool.query(`DROP TABLE ${oursTable}; DROP TABLE ${rawTable}`)
  if (published !== rows || done !== rows)
    throw new Error(`drained ${published} / ${done} of ${rows}`)
  return { ours, raw }
}

async function latency(pool, events) {
  const table = `outbox_bench_${randomBytes(3).toString('hex')}`
  await migrate(pool, { table })
  const committed = new Map()
  const ours = []
  const broker = createMemoryBroker()
  const bus = createEventBus({ transport: memoryTransport({ broker }), source: 'bench' })
  await bus.subscribe(
    'orders',
    (event) => void ours.push(performance.now() - committed.get(event.id)),
    {
      group: 'latency',
    },
  )
  const relay = createRelay({ driver: pgDriver({ pool }), bus, table, pollIntervalMs: 60_000 })
  await relay.start()
  const writer = await pool.connect()
  // The clock starts when COMMIT is sent, so the figure includes the commit itself.
  const commitOne = async (i) => {
    await writer.query('BEGIN')
    const input = { type: 'order.placed', partitionkey: `c${i % KEYS}`, data: { i } }
    const [event] = await enqueue(writer, 'orders', input, { source: 'bench', table })
    committed.set(event.id, performance.now())
    await writer.query('COMMIT')
  }
  for (let i = 0; i < events; i++) {
    await commitOne(i)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  const deadline = Date.now() + 10_000
  while (ours.length < events && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  await relay.stop()
  await bus.close()

  // Raw: a LISTEN connection and the same claim/update transaction on each notification.
  const rawTable = `${table}_raw`
  await migrate(pool, { table: rawTable })
  const raw = []
  const listener = await pool.connect()
  const worker = await pool.connect()
  const rawCommitted = new Map()
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
      for (const row of await rawBatch(worker, rawTable))
        raw.push(performance.now() - rawCommitted.get(row.id))
    } while (again)
    busy = false
  }
  listener.on('notification', () => void work())
  await listener.query(`LISTEN "${rawTable}_ready"`)
  for (let i = 0; i < events; i++) {
    await writer.query('BEGIN')
    const input = { type: 'order.placed', partitionkey: `c${i % KEYS}`, data: { i } }
    const [event] = await enqueue(writer, 'orders', input, { source: 'bench', table: rawTable })
    rawCommitted.set(event.id, performance.now())
    await writer.query('COMMIT')
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  while (raw.length < events && Date.now() < deadline + 10_000)
    await new Promise((r) => setTimeout(r, 10))
  await listener.query(`UNLISTEN "${rawTable}_ready"`)
  listener.release()
  worker.release()
  writer.release()
  await pool.query(`DROP TABLE ${table}; DROP TABLE ${rawTable}`)
  return { ours, raw }
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
    const rows = quick ? 20_000 : 100_000
    const drain = await drainRate(pool, rows)
    report({
      scenario: `relay drain, ${rows.toLocaleString('en-US')} keyed rows, PostgreSQL → memory bus`,
      unit: 'events/s',
      ours: drain.ours,
      raw: drain.raw,
      rawLabel: 'bare pg claim/update loop',
      higherIsBetter: true,
      target: '>= 20 000 events/s',
    })
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
