import { randomBytes } from 'node:crypto'
import { connect as connectTcp } from 'node:net'
import type { EventEnvelope, EventInput } from '@switchyard/core'
import type { Transport } from '@switchyard/core/transport'
import { waitUntil } from '@switchyard/testkit'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { call, uniqueStream } from './support.js'
import { connect, type Live, openSocket, startWsGateway, type WsGateway } from './ws-client.js'

/** A fresh transport, or a reason to skip. */
export interface WsTarget {
  make(): Transport
  skip?: () => Promise<string | undefined>
}

const MAX_BYTES = 256 * 1024

/** The WebSocket routes over one transport, through a real `ws` client. */
export function wsSuite(name: string, target: WsTarget): void {
  describe(`gateway WebSocket over ${name}`, () => {
    let gw: WsGateway
    let skip: string | undefined
    let admin: string
    const open: Live[] = []

    beforeAll(async () => {
      skip = await target.skip?.()
      if (skip !== undefined) return
      gw = await startWsGateway(target.make(), {
        maxBufferedBytes: MAX_BYTES,
        closeGraceMs: 15_000,
        monitoringIntervalMs: 1_000,
      })
      admin = await gw.token({ roles: ['admin'] })
    })
    afterAll(async () => {
      for (const live of open) live.ws.terminate()
      await gw?.close()
    })

    async function newStream(): Promise<string> {
      const stream = uniqueStream('ws')
      const created = await call(`${gw.url}/api/v1/streams`, { token: admin, json: { id: stream } })
      expect(created.status).toBe(201)
      return stream
    }

    async function live(path: string, token: string, as?: 'header' | 'protocol'): Promise<Live> {
      const connection = await connect(`${gw.ws}${path}`, token, as)
      open.push(connection)
      return connection
    }

    const events = (tenant: string | undefined, types: string[]): EventInput[] =>
      types.map((type) => ({
        type,
        data: { type, tenant },
        ...(tenant ? { tenantid: tenant } : {}),
      }))

    test('ws upgrade - a request to upgrade any other path is answered 404 and its socket closed', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      for (const path of ['/api/v1/streams', '/health', '/ws/nope', '/nope']) {
        expect(await openSocket(`${gw.ws}${path}`, { token: admin }), path).toMatchObject({
          status: 404,
        })
      }
      const { port } = new URL(gw.url)
      const socket = connectTcp(Number(port), '127.0.0.1')
      socket.on('error', () => undefined)
      const closed = new Promise<string>((resolve) => {
        let answer = ''
        socket.on('data', (chunk) => {
          answer += chunk.toString()
        })
        socket.on('close', () => resolve(answer))
      })
      socket.write(
        'GET /api/v1/streams HTTP/1.1\r\nHost: gateway\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
          `Authorization: Bearer ${admin}\r\n\r\n`,
      )
      expect(await closed).toMatch(/^HTTP\/1\.1 404 /)
    })

    test('ws auth - no token, a bad signature, a wrong role and an unknown stream are refused before the upgrade', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const stream = await newStream()
      const url = `${gw.ws}/ws/events/${stream}`
      const none = await openSocket(url)
      expect(none).toMatchObject({ status: 401, body: { status: 401 } })
      const forged = await new SignJWT({ roles: ['admin'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode('not-the-secret'))
      const bad = await openSocket(url, { token: forged })
      expect(bad).toMatchObject({
        status: 401,
        body: { detail: expect.stringMatching(/signature/) },
      })
      const badProtocol = await openSocket(url, { token: forged, as: 'protocol' })
      expect(badProtocol).toMatchObject({ status: 401 })
      const publisher = await gw.token({ tenant: 'a', roles: ['publisher'] })
      const wrongRole = await openSocket(url, { token: publisher })
      expect(wrongRole).toMatchObject({
        status: 403,
        body: { detail: expect.stringMatching(/subscriber/) },
      })
      const elsewhere = await gw.token({ tenant: 'a', roles: ['subscriber:other.*'] })
      expect(await openSocket(url, { token: elsewhere })).toMatchObject({ status: 403 })
      const subscriber = await gw.token({ tenant: 'a', roles: ['subscriber'] })
      const missing = await openSocket(`${gw.ws}/ws/events/${uniqueStream('none')}`, {
        token: subscriber,
      })
      expect(missing).toMatchObject({ status: 404 })
      expect(await openSocket(`${gw.ws}/ws/monitoring`)).toMatchObject({ status: 401 })
      expect(await openSocket(`${gw.ws}/ws/monitoring`, { token: publisher })).toMatchObject({
        status: 403,
      })
    })

    test('ws auth - the token is accepted in the Authorization header and as the switchyard.bearer subprotocol', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const stream = await newStream()
      const token = await gw.token({ tenant: 'a', roles: ['subscriber'] })
      const header = await live(`/ws/events/${stream}`, token)
      expect(header.frames[0]).toMatchObject({ type: 'subscribed', stream, tenant: 'a' })
      const browser = await live(`/ws/events/${stream}`, token, 'protocol')
      expect(browser.ws.protocol).toBe('switchyard.bearer')
      expect(browser.frames[0]).toMatchObject({ type: 'subscribed', stream })
      await gw.bus.publish(stream, { type: 'order.placed', data: {}, tenantid: 'a' })
      await header.waitForEvents(1)
      await browser.waitForEvents(1)
    })

    test('ws tenants - a tenant token only receives its tenant events, type globs filter, consumer groups keep every event', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const stream = await newStream()
      const worker: EventEnvelope[] = []
      await gw.bus.subscribe(stream, (e) => void worker.push(e), { group: 'workers' })
      const tokenA = await gw.token({ tenant: 'a', roles: ['subscriber'] })
      const tokenB = await gw.token({ tenant: 'b', roles: ['subscriber', 'publisher'] })
      const a = await live(`/ws/events/${stream}?types=order.*,user.created`, tokenA)
      const b = await live(`/ws/events/${stream}`, tokenB)
      const operator = await live(`/ws/events/${stream}`, admin)
      await gw.bus.publishBatch(stream, [
        ...events('a', ['order.placed']),
        ...events('b', ['order.placed', 'user.created']),
        ...events('a', ['user.created', 'user.deleted', 'order.shipped']),
        ...events(undefined, ['order.global']),
        ...events('b', ['order.shipped']),
        ...events('a', ['order.last']),
      ])
      await operator.waitForEvents(9)
      await a.waitForEvents(4)
      await b.waitForEvents(3)
      // order.last came after every other event on the same connection: nothing else is coming.
      expect(a.events().map((e) => [e.tenantid, e.type])).toEqual([
        ['a', 'order.placed'],
        ['a', 'user.created'],
        ['a', 'order.shipped'],
        ['a', 'order.last'],
      ])
      expect(b.events().every((e) => e.tenantid === 'b')).toBe(true)
      expect(b.events().map((e) => e.type)).toEqual([
        'order.placed',
        'user.created',
        'order.shipped',
      ])
      expect(operator.events().map((e) => e.type)).toContain('order.global')
      await waitUntil(() => worker.length === 9, {
        message: 'the workers group gets all 9',
        describe: () => JSON.stringify(worker.map((e) => e.type)),
      })
      const frame = operator.frames.find((f) => f.type === 'event')
      expect(typeof frame.sequence).toBe('string')
    })

    test('ws resume - from=earliest, after_id, from_sequence and from_time replay retained events, then live ones follow', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const stream = await newStream()
      const watcher = await live(`/ws/events/${stream}`, admin)
      const base = Date.now() - 60_000
      const published = await gw.bus.publishBatch(
        stream,
        [1, 2, 3, 4, 5].map((i) => ({
          type: 'order.placed',
          data: { i },
          tenantid: 'a',
          time: new Date(base + i * 1_000).toISOString(),
        })),
      )
      await watcher.waitForEvents(5)
      const ids = published.map((e) => e.id)
      const sequences = watcher.frames.filter((f) => f.type === 'event').map((f) => f.sequence)
      const token = await gw.token({ tenant: 'a', roles: ['subscriber'] })
      const replayed = async (query: string, count: number) => {
        const connection = await live(`/ws/events/${stream}?${query}`, token)
        await waitUntil(() => connection.frames.some((f) => f.type === 'replayed'), {
          message: `a replayed frame for ${query}`,
        })
        const done = connection.frames.find((f) => f.type === 'replayed')
        expect(done).toMatchObject({ count, complete: true })
        return connection
      }
      const earliest = await replayed('from=earliest', 5)
      expect(earliest.events().map((e) => e.id)).toEqual(ids)
      const afterId = await replayed(`after_id=${ids[1]}`, 3)
      expect(afterId.events().map((e) => e.id)).toEqual(ids.slice(2))
      const fromSequence = await replayed(`from_sequence=${encodeURIComponent(sequences[2])}`, 3)
      expect(fromSequence.events().map((e) => e.id)).toEqual(ids.slice(2))
      const fromTime = await replayed(
        `from_time=${encodeURIComponent(new Date(base + 4_000).toISOString())}`,
        2,
      )
      expect(fromTime.events().map((e) => e.id)).toEqual(ids.slice(3))
      const [next] = await gw.bus.publishBatch(stream, [{ type: 'order.placed', tenantid: 'a' }])
      for (const connection of [earliest, afterId, fromSequence, fromTime]) {
        await waitUntil(() => connection.events().some((e) => e.id === next!.id))
        const got = connection.events().map((e) => e.id)
        expect(new Set(got).size).toBe(got.length)
      }
      const unknown = await live(`/ws/events/${stream}?after_id=no-such-event`, token)
      expect(await unknown.closed).toMatchObject({ code: 4404 })
      const bad = await openSocket(`${gw.ws}/ws/events/${stream}?from_time=yesterday`, { token })
      expect(bad).toMatchObject({ status: 400 })
      const two = await openSocket(`${gw.ws}/ws/events/${stream}?from=earliest&after_id=x`, {
        token,
      })
      expect(two).toMatchObject({ status: 400 })
    })

    test('ws slow consumer - a client that stops reading is closed with 4008 while a fast client receives every event', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const stream = await newStream()
      const fast = await live(`/ws/events/${stream}`, admin)
      const slow = await live(`/ws/events/${stream}`, admin)
      // The slow client stops reading its socket: TCP buffers fill, then the gateway's.
      const raw = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket
      raw.pause()
      const total = 3_000
      const note = 'x'.repeat(8 * 1024)
      for (let sent = 0; sent < total; sent += 100) {
        const batch = Array.from({ length: 100 }, (_, i) => ({
          type: 'bulk.event',
          data: { n: sent + i, note },
        }))
        await gw.bus.publishBatch(stream, batch)
      }
      await fast.waitForEvents(total, 60_000)
      expect(fast.events().map((e) => (e.data as { n: number }).n)).toEqual(
        Array.from({ length: total }, (_, i) => i),
      )
      raw.resume()
      const closed = await slow.closed
      expect(closed.code).toBe(4008)
      expect(closed.reason).toMatch(/slow consumer/)
      expect(slow.events().length).toBeLessThan(total)
      expect(fast.ws.readyState).toBe(fast.ws.OPEN)
    })

    test('ws monitoring - a metrics frame arrives about every second with the stream figures', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const stream = await newStream()
      const publisher = await gw.token({ roles: ['publisher'] })
      const sent = await call(`${gw.url}/api/v1/events`, {
        token: publisher,
        json: { event_type: 'order.placed', stream_id: stream, payload: { total: 1 } },
      })
      expect(sent.status).toBe(202)
      const started = Date.now()
      const monitor = await live(`/ws/monitoring?streams=${stream}`, admin)
      await waitUntil(() => monitor.frames.length >= 4, { timeoutMs: 10_000 })
      const elapsed = Date.now() - started
      // Four frames: one at once, then one a second.
      expect(elapsed).toBeGreaterThan(2_500)
      expect(elapsed).toBeLessThan(8_000)
      const times = monitor.frames.map((f) => Date.parse(f.time))
      for (let i = 2; i < times.length; i++) {
        const gap = times[i]! - times[i - 1]!
        // About a second apart; the margin absorbs a busy CI machine.
        expect(gap).toBeGreaterThan(600)
        expect(gap).toBeLessThan(1_900)
      }
      const frame = monitor.frames.at(-1)
      expect(frame).toMatchObject({
        type: 'metrics',
        status: { status: 'up', transport: { name: gw.bus.transport.name } },
        streams: [{ stream, published_total: 1, retained_count: expect.any(Number) }],
        websocket: { connections: expect.any(Number) },
      })
      const tenantToken = await gw.token({ tenant: 'zz', roles: ['subscriber'] })
      const tenantMonitor = await live('/ws/monitoring', tenantToken)
      const first = tenantMonitor.frames[0]
      expect(first).toMatchObject({ type: 'metrics', tenant: 'zz', websocket: null })
      const mine = first.streams.find((x: { stream: string }) => x.stream === stream)
      expect(mine).toMatchObject({ published_total: 0, retained_count: 0 })
      // The frames are read with the connection's token: once it expires, monitoring ends.
      const shortLived = await gw.token({ roles: ['subscriber'], expirationHours: 2 / 3600 })
      const expiring = await live(`/ws/monitoring?streams=${stream}`, shortLived)
      expect(await expiring.closed).toMatchObject({
        code: 4401,
        reason: expect.stringMatching(/expired/),
      })
    })
  })
}

/** A short random suffix. */
export const suffix = () => randomBytes(3).toString('hex')
