import { randomBytes } from 'node:crypto'
import { PGlite } from '@electric-sql/pglite'
import { createMemoryBroker, memoryTransport } from '@switchyard/adapter-memory'
import { createEventBus, type EventBus, type EventEnvelope } from '@switchyard/core'
import {
  archive,
  createEventStore,
  type EventStore,
  type OutboxDriver,
  pgDriver,
  pgliteDriver,
} from '@switchyard/event-store'
import { serviceOrSkip } from '@switchyard/testkit'
import Fastify, { type FastifyInstance } from 'fastify'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mintToken, openStateStore, switchyardGateway } from '../src/index.js'
import { call } from './support.js'

const DATABASE_URL =
  process.env.DATABASE_URL ??
  process.env.SWITCHYARD_POSTGRES_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres'

interface Database {
  driver: OutboxDriver
  close(): Promise<void>
}

/** A database of its own on the PostgreSQL server, dropped on close; a skip reason without one. */
async function postgresDatabase(): Promise<Database | string> {
  const skip = await serviceOrSkip('PostgreSQL', async () => {
    const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3_000 })
    try {
      await client.connect()
    } finally {
      await client.end().catch(() => undefined)
    }
  })
  if (skip !== undefined) return skip
  const name = `gw_archive_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: DATABASE_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(DATABASE_URL)
  url.pathname = `/${name}`
  const driver = pgDriver({ connectionString: url.toString(), max: 6 })
  return {
    driver,
    async close() {
      await driver.close()
      const client = new pg.Client({ connectionString: DATABASE_URL })
      await client.connect()
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await client.end()
    },
  }
}

async function pgliteDatabase(): Promise<Database> {
  const db = new PGlite()
  return { driver: pgliteDriver(db), close: () => db.close() }
}

interface Gateway {
  app: FastifyInstance
  url: string
  bus: EventBus
  store: EventStore
  token(claims: { tenant?: string; roles: string[] }): Promise<string>
}

async function startGateway(driver: OutboxDriver): Promise<Gateway> {
  const secret = randomBytes(32).toString('hex')
  const store = createEventStore({
    driver,
    schema: `gw_${randomBytes(4).toString('hex')}`,
    source: 'gateway-test',
    outbox: false,
  })
  await store.migrate()
  const bus = createEventBus({
    transport: memoryTransport({ broker: createMemoryBroker() }),
    source: 'gw',
  })
  const app = Fastify()
  await app.register(switchyardGateway, {
    bus,
    store: await openStateStore({}),
    auth: { secret },
    preloadCatalogs: false,
    console: false,
    eventStore: store,
    streams: [{ id: 'hr' }, { id: 'hr.replayed' }, { id: 'payments' }],
  })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  return {
    app,
    url,
    bus,
    store,
    token: ({ tenant, roles }) =>
      mintToken({ secret, tenant, roles, subject: randomBytes(4).toString('hex') }),
  }
}

const at = (second: number) => new Date(Date.UTC(2031, 0, 1, 0, 0, second)).toISOString()

describe.each([
  ['pglite', pgliteDatabase],
  ['postgres', postgresDatabase],
] as const)('archive routes on %s', (_name, open) => {
  let db: Database | undefined
  let gw: Gateway
  let skip: string | undefined
  let operator: string
  beforeAll(async () => {
    const opened = await open()
    if (typeof opened === 'string') {
      skip = opened
      return
    }
    db = opened
    gw = await startGateway(db.driver)
    operator = await gw.token({ roles: ['admin'] })
  }, 120_000)
  afterAll(async () => {
    await gw?.app.close()
    await db?.close()
  })

  it('archive routes - GET /api/v1/events/{id}: an event published through the gateway and archived, with its position; 404 and 401 otherwise', async (ctx) => {
    if (skip) return ctx.skip(skip)
    const running = await archive(gw.bus, gw.store, { topics: ['hr'], group: 'archive' })
    const publisher = await gw.token({ roles: ['publisher'] })
    const sent = await call(`${gw.url}/api/v1/events`, {
      token: publisher,
      json: { stream_id: 'hr', event_type: 'employee.hired', payload: { name: 'Ada' } },
    })
    expect(sent.status).toBe(202)
    const id = sent.body.event_id as string
    let found = await call(`${gw.url}/api/v1/events/${id}`, { token: operator })
    for (let i = 0; found.status === 404 && i < 500; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      found = await call(`${gw.url}/api/v1/events/${id}`, { token: operator })
    }
    expect(found.status).toBe(200)
    expect(found.body).toMatchObject({
      topic: 'hr',
      stream_id: null,
      event: { id, type: 'employee.hired', data: { name: 'Ada' } },
    })
    expect(found.body.position).toBeGreaterThan(0)
    const appended = await gw.store.append('employee-e1', {
      type: 'employee.approved',
      data: new Uint8Array([7]),
    })
    const byId = await call(`${gw.url}/api/v1/events/${appended.events[0]!.event.id}`, {
      token: operator,
    })
    expect(byId.body).toMatchObject({
      stream_id: 'employee-e1',
      stream_version: 1,
      event: { data_base64: 'Bw==' },
    })
    expect((await call(`${gw.url}/api/v1/events/nope`, { token: operator })).status).toBe(404)
    expect((await call(`${gw.url}/api/v1/events/${id}`)).status).toBe(401)
    expect((await call(`${gw.url}/api/v1/events/${id}`, { token: publisher })).status).toBe(403)
    await running.close()
  })

  it('archive routes - POST /api/v1/events/query by type glob and time range', async (ctx) => {
    if (skip) return ctx.skip(skip)
    const kind = randomBytes(3).toString('hex')
    const events = Array.from({ length: 8 }, (_, i) => ({
      specversion: '1.0' as const,
      id: `${kind}-${i}`,
      source: 'hr',
      type: `${kind}.${i % 2 === 0 ? 'leave.requested' : 'leave.approved'}`,
      time: at(i),
    }))
    await gw.store.record('hr', events)
    const query = (json: unknown) =>
      call(`${gw.url}/api/v1/events/query`, { token: operator, json })
    const approved = await query({
      types: [`${kind}.*.approved`],
      time_from: at(2),
      time_to: at(7),
    })
    expect(approved.status).toBe(200)
    expect(approved.body.events.map((e: { event: EventEnvelope }) => e.event.id)).toEqual([
      `${kind}-3`,
      `${kind}-5`,
    ])
    expect(approved.body.next_cursor).toBeNull()
    const all = await query({ types: [`${kind}.**`] })
    expect(all.body.events).toHaveLength(8)
    const bad = await query({ types: [`${kind}.**`], time_from: 'yesterday' })
    expect(bad.status).toBe(400)
    expect(bad.body.detail).toMatch(/time/)
    expect((await query({ limit: 0 })).status).toBe(400)
  })

  it('archive routes - query paging is stable under concurrent appends: every page continues where the last ended, no event twice or skipped', async (ctx) => {
    if (skip) return ctx.skip(skip)
    const stream = `ledger-${randomBytes(3).toString('hex')}`
    for (let i = 0; i < 40; i++)
      await gw.store.append(stream, { type: 'ledger.posted', data: { i } })
    let writing = true
    const writer = (async () => {
      for (let i = 40; i < 100; i++)
        await gw.store.append(stream, { type: 'ledger.posted', data: { i } })
      writing = false
    })()
    const seen: number[] = []
    let cursor: string | undefined
    for (;;) {
      const done = !writing
      const page = await call(`${gw.url}/api/v1/events/query`, {
        token: operator,
        json: { stream_id: stream, limit: 7, ...(cursor === undefined ? {} : { cursor }) },
      })
      expect(page.status).toBe(200)
      const events = page.body.events as Array<{ position: number; event: { data: { i: number } } }>
      seen.push(...events.map((e) => e.event.data.i))
      // The cursor of the last event read: new events can only come after it.
      if (events.length > 0) cursor = String(events.at(-1)!.position)
      if (page.body.next_cursor === null && done) break
    }
    await writer
    // Pages were read while events kept arriving: still 0..99, each once, in order.
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i))
  })

  it('archive routes - tenant A never sees B: by id, by query (the token forces its tenant), and another tenant in the body is refused', async (ctx) => {
    if (skip) return ctx.skip(skip)
    const a = await gw.store.append(
      `account-a${randomBytes(2).toString('hex')}`,
      { type: 'account.opened' },
      { tenant: 'tenant-a' },
    )
    const b = await gw.store.append(
      `account-b${randomBytes(2).toString('hex')}`,
      { type: 'account.opened' },
      { tenant: 'tenant-b' },
    )
    const tokenA = await gw.token({ tenant: 'tenant-a', roles: ['subscriber'] })
    const idA = a.events[0]!.event.id
    const idB = b.events[0]!.event.id
    expect((await call(`${gw.url}/api/v1/events/${idA}`, { token: tokenA })).status).toBe(200)
    expect((await call(`${gw.url}/api/v1/events/${idB}`, { token: tokenA })).status).toBe(404)
    const mine = await call(`${gw.url}/api/v1/events/query`, {
      token: tokenA,
      json: { types: ['account.*'] },
    })
    expect(mine.body.events.map((e: { event: EventEnvelope }) => e.event.tenantid)).toEqual([
      'tenant-a',
    ])
    const other = await call(`${gw.url}/api/v1/events/query`, {
      token: tokenA,
      json: { tenant: 'tenant-b' },
    })
    expect(other.status).toBe(403)
    const everything = await call(`${gw.url}/api/v1/events/query`, {
      token: tokenA,
      json: { limit: 1000 },
    })
    expect(
      everything.body.events.every(
        (e: { event: EventEnvelope }) => e.event.tenantid === 'tenant-a',
      ),
    ).toBe(true)
    // A token scoped to topic globs reads those topics only.
    await gw.store.record('payments', {
      specversion: '1.0',
      id: `pay-${idA}`,
      source: 'p',
      type: 'payment.made',
      time: at(1),
    })
    const scoped = await gw.token({ roles: ['subscriber:hr*'] })
    const visible = await call(`${gw.url}/api/v1/events/query`, {
      token: scoped,
      json: { limit: 1000 },
    })
    expect(visible.body.events.length).toBeGreaterThan(0)
    expect(visible.body.events.every((e: { topic: string }) => e.topic === 'hr')).toBe(true)
    expect((await call(`${gw.url}/api/v1/events/pay-${idA}`, { token: scoped })).status).toBe(404)
    const refused = await call(`${gw.url}/api/v1/events/query`, {
      token: scoped,
      json: { topics: ['payments'] },
    })
    expect(refused.status).toBe(403)
  })

  it('archive routes - POST /api/v1/streams/{id}/replay publishes a position range to a topic, progress in the status route', async (ctx) => {
    if (skip) return ctx.skip(skip)
    const kind = `r${randomBytes(3).toString('hex')}`
    const events = Array.from({ length: 12 }, (_, i) => ({
      specversion: '1.0' as const,
      id: `${kind}-${i}`,
      source: 'hr',
      type: `${kind}.happened`,
      time: at(i),
      data: { i },
    }))
    await gw.store.record('hr', events)
    const replayed: EventEnvelope[] = []
    const sub = await gw.bus.subscribe(
      'hr.replayed',
      (e) => {
        replayed.push(e)
      },
      { group: `check-${kind}` },
    )
    const ids = (await gw.store.queryEvents({ types: [`${kind}.*`] })).events.map((e) => e.position)
    const started = await call(`${gw.url}/api/v1/streams/hr/replay`, {
      token: operator,
      json: {
        topic: 'hr.replayed',
        types: [`${kind}.*`],
        from_position: ids[2],
        to_position: ids[9],
        batch_size: 3,
      },
    })
    expect(started.status).toBe(202)
    expect(started.headers.get('location')).toBe(started.body.status_url)
    let status = await call(`${gw.url}${started.body.status_url}`, { token: operator })
    for (let i = 0; status.body.status === 'running' && i < 500; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      status = await call(`${gw.url}${started.body.status_url}`, { token: operator })
    }
    expect(status.body).toMatchObject({
      status: 'completed',
      total: 8,
      published: 8,
      last_position: ids[9],
      error: null,
    })
    for (let i = 0; replayed.length < 8 && i < 500; i++)
      await new Promise((resolve) => setTimeout(resolve, 20))
    expect(replayed.map((e) => (e.data as { i: number }).i).sort((x, y) => x - y)).toEqual([
      2, 3, 4, 5, 6, 7, 8, 9,
    ])
    await sub.close()
    const tenantToken = await gw.token({ tenant: 'tenant-a', roles: ['subscriber', 'publisher'] })
    expect((await call(`${gw.url}${started.body.status_url}`, { token: tenantToken })).status).toBe(
      404,
    )
    const subscriberOnly = await gw.token({ roles: ['subscriber'] })
    expect(
      (await call(`${gw.url}/api/v1/streams/hr/replay`, { token: subscriberOnly, json: {} }))
        .status,
    ).toBe(403)
    expect(
      (await call(`${gw.url}/api/v1/streams/nope/replay`, { token: operator, json: {} })).status,
    ).toBe(404)
  })

  it('archive routes - listed in /openapi.json', async (ctx) => {
    if (skip) return ctx.skip(skip)
    const doc = await call(`${gw.url}/openapi.json`, { token: operator })
    const paths = Object.keys(doc.body.paths)
    for (const path of [
      '/api/v1/events/{id}',
      '/api/v1/events/query',
      '/api/v1/streams/{id}/replay',
      '/api/v1/streams/{id}/replays/{replay_id}',
    ]) {
      expect(paths).toContain(path)
    }
  })
})
