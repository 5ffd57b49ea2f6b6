import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { memoryTransport } from '@switchyard/adapter-memory'
import { serviceOrSkip } from '@switchyard/testkit'
import pg from 'pg'
import { afterAll, describe, expect, test } from 'vitest'
import { openStateStore, type StateOptions } from '../src/index.js'
import { call, startGateway, uniqueStream } from './support.js'

const POSTGRES_URL =
  process.env.SWITCHYARD_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/switchyard'

/** Streams and schemas created through one gateway are there in the next one on the same state. */
async function survivesRestart(state: () => StateOptions, kind: string): Promise<void> {
  const stream = uniqueStream()
  const type = `persisted.${randomBytes(3).toString('hex')}`
  const schema = {
    type: 'object',
    properties: { a: { type: 'string' } },
    additionalProperties: false,
  }
  const first = await startGateway(memoryTransport(), { state: await openStateStore(state()) })
  const admin = await first.token({ roles: ['admin'] })
  expect(
    (
      await call(`${first.url}/api/v1/streams`, {
        token: admin,
        json: { id: stream, partitions: 6, retention_ms: 3_600_000 },
      })
    ).status,
  ).toBe(201)
  expect(
    (
      await call(`${first.url}/api/v1/schemas`, {
        token: admin,
        json: { event_type: type, schema },
      })
    ).status,
  ).toBe(201)
  await first.close()

  const second = await startGateway(memoryTransport(), { state: await openStateStore(state()) })
  try {
    const token = await second.token({ roles: ['admin'] })
    const read = await call(`${second.url}/api/v1/streams/${stream}`, { token })
    expect(read.status).toBe(200)
    expect(read.body).toMatchObject({ id: stream, partitions: 6, retention_ms: 3_600_000 })
    const stored = await call(`${second.url}/api/v1/schemas/${type}`, { token })
    expect(stored.body).toMatchObject({ event_type: type, version: 1, schema, origin: 'custom' })
    const status = await call(`${second.url}/api/v1/status`, { token })
    expect(status.body.database.kind).toBe(kind)
    // The persisted schema validates again after the restart.
    const invalid = await call(`${second.url}/api/v1/events`, {
      token,
      json: { event_type: type, stream_id: stream, payload: { a: 1 } },
    })
    expect(invalid.status).toBe(422)
  } finally {
    await second.close()
  }
}

describe('state', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-gateway-state-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  test('state - PGlite on disk keeps streams and schemas across restarts', async () => {
    await survivesRestart(() => ({ dataDir: join(dir, 'pglite') }), 'pglite')
  })

  test('state - PostgreSQL (DATABASE_URL) keeps streams and schemas across restarts', async ({
    skip,
  }) => {
    const reason = await serviceOrSkip('PostgreSQL', async () => {
      const client = new pg.Client({
        connectionString: POSTGRES_URL,
        connectionTimeoutMillis: 3_000,
      })
      try {
        await client.connect()
        await client.query('SELECT 1')
      } finally {
        await client.end().catch(() => undefined)
      }
    })
    if (reason !== undefined) return skip(reason)
    const tablePrefix = `sygw_${randomBytes(4).toString('hex')}`
    try {
      await survivesRestart(() => ({ databaseUrl: POSTGRES_URL, tablePrefix }), 'postgres')
    } finally {
      const client = new pg.Client({ connectionString: POSTGRES_URL })
      await client.connect()
      await client.query(`DROP TABLE IF EXISTS ${tablePrefix}_streams, ${tablePrefix}_schemas`)
      await client.end()
    }
  })
})
