import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import SwaggerParser from '@apidevtools/swagger-parser'
import { memoryTransport } from '@switchyard/adapter-memory'
import { createEventBus } from '@switchyard/core'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import type { OpenAPIV3_1 } from 'openapi-types'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { prometheusMetrics, sqlStateStore } from '../src/index.js'
import { call, type RunningGateway, startGateway, uniqueStream } from './support.js'

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey']

const ROUTES = [
  'POST /api/v1/events',
  'POST /api/v1/events/batch',
  'POST /events/publish',
  'GET /api/v1/streams',
  'POST /api/v1/streams',
  'GET /api/v1/streams/{id}',
  'GET /api/v1/streams/{id}/events',
  'GET /api/v1/streams/{id}/metrics',
  'GET /api/v1/streams/{id}/dead-letters',
  'GET /api/v1/streams/{id}/dead-letters/{entry}',
  'POST /api/v1/streams/{id}/dead-letters/replay',
  'POST /api/v1/streams/{id}/dead-letters/discard',
  'GET /api/v1/outbox',
  'GET /api/v1/outbox/parked',
  'POST /api/v1/outbox/parked/requeue',
  'GET /api/v1/schemas',
  'POST /api/v1/schemas',
  'GET /api/v1/schemas/{id}',
  'GET /health',
  'GET /api/v1/status',
  'GET /metrics',
  'GET /openapi.json',
  'GET /docs',
  'GET /ws/events/{stream}',
  'GET /ws/monitoring',
  'POST /api/v1/subscriptions',
  'GET /api/v1/subscriptions',
  'GET /api/v1/subscriptions/{id}',
  'GET /api/v1/subscriptions/{id}/status',
  'DELETE /api/v1/subscriptions/{id}',
  'POST /api/v1/subscriptions/{id}/pause',
  'POST /api/v1/subscriptions/{id}/resume',
  'GET /ws/subscriptions/{id}',
]

describe('operations', () => {
  let gw: RunningGateway
  let admin: string
  const lines: string[] = []
  beforeAll(async () => {
    const metrics = prometheusMetrics()
    const bus = createEventBus({ transport: memoryTransport(), middleware: [metrics.middleware] })
    gw = await startGateway(memoryTransport(), {
      bus,
      metrics,
      logLevel: 'info',
      logStream: { write: (line) => void lines.push(line) },
    })
    admin = await gw.token({ roles: ['admin'] })
  })
  afterAll(() => gw?.close())

  test('openapi - /openapi.json validates as OpenAPI 3.1 and lists every route', async () => {
    const res = await call(`${gw.url}/openapi.json`, { token: admin })
    expect(res.status).toBe(200)
    const doc = res.body as OpenAPIV3_1.Document
    expect(doc.openapi).toBe('3.1.0')
    await SwaggerParser.validate(structuredClone(doc) as never)
    const listed = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
      Object.keys(item ?? {}).map((method) => `${method.toUpperCase()} ${path}`),
    )
    expect(listed.sort()).toEqual([...ROUTES].sort())
    expect(doc.paths?.['/health']?.get?.security).toEqual([])
    expect((await call(`${gw.url}/openapi.json`)).status).toBe(401)
    const docs = await call(`${gw.url}/docs`)
    expect(docs.status).toBe(200)
    expect(docs.headers.get('content-type')).toMatch(/text\/html/)
  })

  test('metrics - /metrics is Prometheus text with the bus and HTTP metrics, for admins only', async () => {
    const stream = uniqueStream()
    const published = await call(`${gw.url}/api/v1/events`, {
      token: admin,
      json: { event_type: 'x.y', stream_id: stream, payload: {} },
    })
    expect(published.status).toBe(202)
    const res = await call(`${gw.url}/metrics`, { token: admin })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(res.body).toMatch(
      new RegExp(
        `messaging_client_sent_messages_total\\{[^}]*messaging_destination_name="${stream.replace('.', '\\.')}"[^}]*\\} 1`,
      ),
    )
    expect(res.body).toMatch(/http_server_requests_total\{[^}]*http_route="\/api\/v1\/events"/)
    const publisher = await gw.token({ tenant: 'acme', roles: ['publisher'] })
    expect((await call(`${gw.url}/metrics`, { token: publisher })).status).toBe(403)
  })

  test('logging - no log line holds a token, and request headers are not logged', async () => {
    const token = await gw.token({ tenant: 'acme', roles: ['subscriber'] })
    await call(`${gw.url}/api/v1/streams`, { token })
    await call(`${gw.url}/api/v1/streams`, { token: `${token}x` })
    expect(lines.length).toBeGreaterThan(0)
    const all = lines.join('')
    expect(all).toContain('/api/v1/streams')
    expect(all).not.toContain(token.split('.')[2]!)
    expect(all.toLowerCase()).not.toContain('authorization')
    expect(all).not.toContain(gw.secret)
  })
})

describe('auth with a JWKS', () => {
  let jwks: Server
  let gw: RunningGateway
  let privateKey: SigningKey
  beforeAll(async () => {
    const pair = await generateKeyPair('RS256')
    privateKey = pair.privateKey
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ keys: [jwk] }))
    })
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve))
    const { port } = jwks.address() as AddressInfo
    gw = await startGateway(memoryTransport(), {
      auth: {
        jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
        algorithm: 'RS256',
        tenantClaim: 'org',
      },
    })
  })
  afterAll(async () => {
    await gw?.close()
    jwks?.close()
  })

  test('auth - RS256 tokens verify against the JWKS; another key or HS256 are 401', async () => {
    const sign = (key: SigningKey | Uint8Array, alg: string) =>
      new SignJWT({ roles: ['subscriber'], org: 'acme' })
        .setProtectedHeader({ alg, kid: 'k1' })
        .setExpirationTime('5m')
        .sign(key)
    const ok = await call(`${gw.url}/api/v1/status`, { token: await sign(privateKey, 'RS256') })
    expect(ok.status).toBe(200)
    const other = (await generateKeyPair('RS256')).privateKey
    expect(
      (await call(`${gw.url}/api/v1/status`, { token: await sign(other, 'RS256') })).status,
    ).toBe(401)
    const hs = await call(`${gw.url}/api/v1/status`, {
      token: await sign(new TextEncoder().encode('x'.repeat(32)), 'HS256'),
    })
    expect(hs.status).toBe(401)
    expect(hs.body.detail).toMatch(/algorithm/)
  })
})

describe('auth without its key set', () => {
  test('auth - an unreachable JWKS is a 503, not a 401 blaming the token', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const { port } = closed.address() as AddressInfo
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const gw = await startGateway(memoryTransport(), {
      auth: { jwksUrl: `http://127.0.0.1:${port}/jwks.json`, algorithm: 'RS256' },
    })
    try {
      const { privateKey } = await generateKeyPair('RS256')
      const token = await new SignJWT({ roles: ['admin'] })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setExpirationTime('5m')
        .sign(privateKey)
      const res = await call(`${gw.url}/api/v1/status`, { token })
      expect(res.status).toBe(503)
      expect(res.body.detail).toMatch(/JWKS/)
      expect(res.headers.get('retry-after')).toBe('5')
    } finally {
      await gw.close()
    }
  })
})

describe('health', () => {
  test('health - 503 naming the component that is down', async () => {
    const { PGlite } = await import('@electric-sql/pglite')
    const db = new PGlite()
    const store = sqlStateStore({
      client: db,
      kind: 'pglite',
      close: async () => void (db.closed || (await db.close())),
    })
    await store.migrate()
    const gw = await startGateway(memoryTransport(), { state: store })
    try {
      expect((await call(`${gw.url}/health`)).status).toBe(200)
      await db.close()
      const down = await call(`${gw.url}/health`)
      expect(down.status).toBe(503)
      expect(down.body).toEqual({
        status: 'down',
        components: { broker: { status: 'up' }, database: { status: 'down' } },
      })
    } finally {
      await gw.close()
    }
  })
})

describe('failures', () => {
  test('errors - a broker failure is a 5xx problem without a stack, and its log line has none', async () => {
    const lines: string[] = []
    const gw = await startGateway(memoryTransport(), {
      logLevel: 'error',
      logStream: { write: (line) => void lines.push(line) },
    })
    try {
      const admin = await gw.token({ roles: ['admin'] })
      await gw.bus.close()
      const res = await call(`${gw.url}/api/v1/events`, {
        token: admin,
        json: { event_type: 'x.y', stream_id: uniqueStream(), payload: {} },
      })
      expect(res.status).toBeGreaterThanOrEqual(500)
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/)
      expect(Object.keys(res.body).sort()).toEqual(['detail', 'status', 'title', 'type'])
      expect(JSON.stringify(res.body)).not.toMatch(/\bat .*\.(ts|js):\d+/)
      expect(lines.join('')).toMatch(/request failed/)
      expect(lines.join('')).not.toMatch(/\bat .*\.(ts|js):\d+|"stack"/)
    } finally {
      await gw.close()
    }
  })
})
