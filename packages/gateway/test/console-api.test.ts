import { PGlite } from '@electric-sql/pglite'
import { memoryTransport } from '@switchyard/adapter-memory'
import { consoleBuilt } from '@switchyard/console'
import { enqueue, migrate } from '@switchyard/outbox'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { call, type RunningGateway, startGateway } from './support.js'

describe('console routes', () => {
  let gw: RunningGateway
  let db: PGlite
  let admin: string
  let parkedId: string
  beforeAll(async () => {
    db = new PGlite()
    await migrate(db)
    const [parked, pending] = await enqueue(db, 'orders', [
      { type: 'order.created', source: 'shop', data: { n: 1 } },
      { type: 'order.created', source: 'shop', data: { n: 2 } },
    ])
    parkedId = parked!.id
    expect(pending).toBeDefined()
    await db.query(
      `UPDATE outbox SET parked_at = now(), attempts = 3, last_error = 'PublishError: refused'
       WHERE id = $1`,
      [parkedId],
    )
    gw = await startGateway(memoryTransport(), { outbox: { db } })
    admin = await gw.token({ roles: ['admin'] })
  })
  afterAll(async () => {
    await gw?.close()
    await db?.close()
  })

  test('console - /console/ serves the built app without a token, with a CSP; no path escapes it', async ({
    skip,
  }) => {
    if (!consoleBuilt()) {
      if (process.env.CI) throw new Error('the console is not built under CI')
      return skip('the console is not built (pnpm --filter @switchyard/console build)')
    }
    const page = await call(`${gw.url}/console/`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/)
    expect(page.body).toContain('<div id="app">')
    const asset = /src="\.\/(assets\/[^"]+\.js)"/.exec(page.body as string)?.[1]
    expect(asset).toBeDefined()
    const script = await fetch(`${gw.url}/console/${asset}`)
    expect(script.status).toBe(200)
    expect(script.headers.get('cache-control')).toMatch(/immutable/)
    expect((await script.text()).length).toBeGreaterThan(1000)
    const bare = await fetch(`${gw.url}/console`, { redirect: 'manual' })
    expect(bare.status).toBe(302)
    expect(bare.headers.get('location')).toBe('console/')
    await bare.arrayBuffer()
    expect((await call(`${gw.url}/console/nope.js`)).status).toBe(404)
    const outside = await call(`${gw.url}/console/..%2f..%2fpackage.json`)
    expect([403, 404]).toContain(outside.status)
    expect(JSON.stringify(outside.body)).not.toContain('@switchyard/console')
    // The page is public; the API it calls is not.
    expect((await call(`${gw.url}/api/v1/outbox`)).status).toBe(401)
  })

  test('outbox - backlog, parked rows and requeue for an admin of no tenant only', async () => {
    const status = await call(`${gw.url}/api/v1/outbox`, { token: admin })
    expect(status.status).toBe(200)
    expect(status.body).toMatchObject({ pending: 1, parked: 1 })
    const parked = await call(`${gw.url}/api/v1/outbox/parked`, { token: admin })
    expect(parked.body.parked).toEqual([
      expect.objectContaining({ id: parkedId, topic: 'orders', attempts: 3 }),
    ])
    expect(parked.body.parked[0].last_error).toBe('PublishError: refused')
    const tenantAdmin = await gw.token({ tenant: 'acme', roles: ['admin'] })
    const refused = await call(`${gw.url}/api/v1/outbox`, { token: tenantAdmin })
    expect(refused.status).toBe(403)
    expect(refused.body.detail).toMatch(/no tenant/)
    const reader = await gw.token({ roles: ['subscriber'] })
    expect((await call(`${gw.url}/api/v1/outbox/parked`, { token: reader })).status).toBe(403)
    const requeued = await call(`${gw.url}/api/v1/outbox/parked/requeue`, {
      token: admin,
      json: { ids: [parkedId] },
    })
    expect(requeued.body).toEqual({ requeued: 1 })
    expect((await call(`${gw.url}/api/v1/outbox`, { token: admin })).body).toMatchObject({
      pending: 2,
      parked: 0,
    })
  })

  test('outbox - a gateway without one answers 404 naming the option', async () => {
    const bare = await startGateway(memoryTransport(), { console: false })
    try {
      const token = await bare.token({ roles: ['admin'] })
      const res = await call(`${bare.url}/api/v1/outbox`, { token })
      expect(res.status).toBe(404)
      expect(res.body.detail).toMatch(/outbox option/)
      expect((await call(`${bare.url}/console/`)).status).not.toBe(200)
    } finally {
      await bare.close()
    }
  })
})
