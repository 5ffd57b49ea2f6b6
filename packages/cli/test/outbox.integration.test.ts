import { enqueue, migrate } from '@switchyard/outbox'
import { serviceOrSkip } from '@switchyard/testkit'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { DATABASE_URL, oneLineError, requireBuiltBin, runBin } from './support.js'

requireBuiltBin()
const table = `cli_outbox_${Math.random().toString(36).slice(2, 8)}`
const env = { DATABASE_URL }
let pool: pg.Pool
let skip: string | undefined

beforeAll(async () => {
  skip = await serviceOrSkip('PostgreSQL', async () => {
    const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3_000 })
    await client.connect()
    await client.end()
  })
  if (skip !== undefined) return
  pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 })
  await migrate(pool, { table })
  // 3 pending, 2 sent, 1 parked.
  const events = await enqueue(
    pool,
    'orders',
    Array.from({ length: 6 }, (_, n) => ({ type: 'order.created', source: 'shop', data: { n } })),
    { table },
  )
  await pool.query(`UPDATE ${table} SET sent_at = now() WHERE id = ANY($1)`, [
    events.slice(0, 2).map((e) => e.id),
  ])
  await pool.query(
    `UPDATE ${table} SET parked_at = now(), attempts = 5, last_error = 'PublishError: broker down' WHERE id = $1`,
    [events[5]!.id],
  )
})

afterAll(async () => {
  if (skip !== undefined) return
  await pool.query(`DROP TABLE IF EXISTS ${table}`)
  await pool.end()
})

const outbox = (...args: string[]) =>
  runBin(['outbox', ...args, '--table', table, '--json'], { env })

describe('outbox', () => {
  test('outbox - status, parked, requeue and prune against PostgreSQL', async (ctx) => {
    if (skip !== undefined) return ctx.skip(skip)
    const status = await outbox('status')
    expect(status.code, status.stderr).toBe(0)
    expect(JSON.parse(status.stdout)).toMatchObject({ pending: 3, parked: 1 })
    const parked = await outbox('parked')
    expect(parked.code, parked.stderr).toBe(0)
    const rows = JSON.parse(parked.stdout)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({
      topic: 'orders',
      attempts: 5,
      lastError: 'PublishError: broker down',
    })
    const requeue = await outbox('requeue', '--id', rows[0].id)
    expect(JSON.parse(requeue.stdout)).toEqual({ requeued: 1 })
    expect(JSON.parse((await outbox('status')).stdout)).toMatchObject({ pending: 4, parked: 0 })
    const prune = await outbox('prune')
    expect(JSON.parse(prune.stdout)).toEqual({ pruned: 2 })
    const { rows: left } = await pool.query(`SELECT count(*)::int AS n FROM ${table}`)
    expect(left[0].n).toBe(4)
  })

  test('outbox - a missing table, no database or a bad one is one line and a clear code', async (ctx) => {
    if (skip !== undefined) return ctx.skip(skip)
    const missing = await runBin(['outbox', 'status', '--table', 'no_such_outbox'], { env })
    expect(missing.code).toBe(4)
    expect(oneLineError(missing)).toContain('"no_such_outbox" does not exist')
    const none = await runBin(['outbox', 'status'])
    expect(none.code).toBe(2)
    expect(oneLineError(none)).toContain('DATABASE_URL')
    const refused = await runBin(['outbox', 'status'], {
      env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/switchyard' },
    })
    expect(refused.code).toBe(3)
    expect(oneLineError(refused)).toContain('ECONNREFUSED')
    const requeue = await runBin(['outbox', 'requeue'], { env })
    expect(requeue.code).toBe(2)
    expect(oneLineError(requeue)).toContain('--id')
  })
})
