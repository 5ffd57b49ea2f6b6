import { randomBytes, randomUUID } from 'node:crypto'
import { type EventEnvelope, outcome } from '@switchyard/core'
import type { Transport } from '@switchyard/core/transport'
import { waitUntil } from '@switchyard/testkit'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { call, type RunningGateway, startGateway, uniqueStream } from './support.js'

/** What the suite needs from a transport: a fresh one, or a reason to skip. */
export interface SuiteTarget {
  make(): Transport
  skip?: () => Promise<string | undefined>
}

const BODY_LIMIT = 64 * 1024

/** The gateway's REST behaviour over one transport, through a real HTTP client. */
export function gatewaySuite(name: string, target: SuiteTarget): void {
  describe(`gateway over ${name}`, () => {
    let gw: RunningGateway
    let skip: string | undefined
    let admin: string
    const tenant = () => `t-${randomBytes(3).toString('hex')}`

    beforeAll(async () => {
      skip = await target.skip?.()
      if (skip !== undefined) return
      gw = await startGateway(target.make(), {
        bodyLimit: BODY_LIMIT,
        rateLimit: { ratePerSecond: 0.2, burst: 40 },
      })
      admin = await gw.token({ roles: ['admin'] })
    })
    afterAll(async () => {
      await gw?.close()
    })

    /** Creates a stream as admin and collects what a subscriber of it receives. */
    async function streamWithSubscriber(): Promise<{ stream: string; received: EventEnvelope[] }> {
      const stream = uniqueStream()
      const created = await call(`${gw.url}/api/v1/streams`, { token: admin, json: { id: stream } })
      expect(created.status).toBe(201)
      const received: EventEnvelope[] = []
      await gw.bus.subscribe(stream, (e) => void received.push(e), { group: `sub-${stream}` })
      return { stream, received }
    }

    test('auth - no token, a bad signature and an expired token are 401 problems', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const url = `${gw.url}/api/v1/streams`
      const none = await call(url)
      expect(none.status).toBe(401)
      expect(none.headers.get('content-type')).toMatch(/^application\/problem\+json/)
      expect(none.body.detail).toMatch(/Bearer/)
      const forged = await new SignJWT({ roles: ['admin'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode('not-the-secret'))
      const bad = await call(url, { token: forged })
      expect(bad.status).toBe(401)
      expect(bad.body.detail).toMatch(/signature/)
      expect(JSON.stringify(bad.body)).not.toContain(forged)
      const expired = await new SignJWT({ roles: ['admin'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
        .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
        .sign(new TextEncoder().encode(gw.secret))
      const old = await call(url, { token: expired })
      expect(old.status).toBe(401)
      expect(old.body.detail).toMatch(/expired/)
      const garbage = await call(url, { token: 'not.a.jwt' })
      expect(garbage.status).toBe(401)
    })

    test('auth - a subscriber cannot publish, a publisher cannot create streams (403)', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const { stream } = await streamWithSubscriber()
      const subscriber = await gw.token({ tenant: tenant(), roles: ['subscriber'] })
      const publish = await call(`${gw.url}/api/v1/events`, {
        token: subscriber,
        json: { event_type: 'x.happened', stream_id: stream, payload: {} },
      })
      expect(publish.status).toBe(403)
      expect(publish.body.detail).toMatch(/publisher/)
      const publisher = await gw.token({ tenant: tenant(), roles: ['publisher'] })
      const create = await call(`${gw.url}/api/v1/streams`, {
        token: publisher,
        json: { id: uniqueStream() },
      })
      expect(create.status).toBe(403)
      const scoped = await gw.token({ tenant: tenant(), roles: ['publisher:other.*'] })
      const elsewhere = await call(`${gw.url}/api/v1/events`, {
        token: scoped,
        json: { event_type: 'x.happened', stream_id: stream, payload: {} },
      })
      expect(elsewhere.status).toBe(403)
    })

    test('publish - an APG event is 202 with its id once the broker has it, tenant stamped from the token', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const { stream, received } = await streamWithSubscriber()
      const t = tenant()
      const token = await gw.token({ tenant: t, roles: ['publisher'] })
      const res = await call(`${gw.url}/api/v1/events`, {
        token,
        json: {
          event_type: 'order.placed',
          source_capability: 'orders',
          aggregate_id: 'ord-1',
          aggregate_type: 'order',
          payload: { total: 42 },
          stream_id: stream,
          user_id: 'u-7',
        },
      })
      expect(res.status).toBe(202)
      expect(res.body.event_ids).toHaveLength(1)
      await waitUntil(() => received.length === 1, { message: 'the subscriber gets the event' })
      const event = received[0]!
      expect(event).toMatchObject({
        id: res.body.event_id,
        type: 'order.placed',
        source: 'orders',
        subject: 'ord-1',
        partitionkey: 'ord-1',
        tenantid: t,
        data: { total: 42 },
        extensions: { aggregatetype: 'order', userid: 'u-7' },
      })
    })

    test('publish - a tenant-scoped token cannot publish as another tenant (403)', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const { stream, received } = await streamWithSubscriber()
      const token = await gw.token({ tenant: tenant(), roles: ['publisher'] })
      const res = await call(`${gw.url}/api/v1/events`, {
        token,
        json: { event_type: 'x.y', stream_id: stream, payload: {}, tenant_id: 'someone-else' },
      })
      expect(res.status).toBe(403)
      expect(res.body.detail).toMatch(/someone-else/)
      const batch = await call(`${gw.url}/api/v1/events/batch`, {
        token,
        json: {
          events: [
            { event_type: 'x.y', stream_id: stream, payload: {}, tenant_id: 'someone-else' },
          ],
        },
      })
      expect(batch.status).toBe(403)
      const cloudEvent = await call(`${gw.url}/api/v1/events?stream_id=${stream}`, {
        token,
        body: JSON.stringify({
          specversion: '1.0',
          id: randomUUID(),
          source: '/x',
          type: 'x.y',
          tenantid: 'someone-else',
        }),
        headers: { 'content-type': 'application/cloudevents+json' },
      })
      expect(cloudEvent.status).toBe(403)
      const anumate = await call(`${gw.url}/events/publish?source=test`, {
        token,
        json: { event_type: 'x.y', data: {}, tenant_id: 'someone-else', stream_id: stream },
      })
      expect(anumate.status).toBe(403)
      expect(received).toHaveLength(0)
    })

    test('publish - an APG batch is 202 with the ids in order; Anumate publish goes to its catalog topic', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const { stream, received } = await streamWithSubscriber()
      const token = await gw.token({ tenant: tenant(), roles: ['publisher'] })
      const events = [1, 2, 3].map((n) => ({
        event_type: 'n.counted',
        stream_id: stream,
        payload: { n },
        aggregate_id: 'k',
      }))
      const res = await call(`${gw.url}/api/v1/events/batch`, { token, json: { events } })
      expect(res.status).toBe(202)
      expect(res.body.event_ids).toHaveLength(3)
      await waitUntil(() => received.length === 3, { message: 'three events' })
      expect(received.map((e) => e.id)).toEqual(res.body.event_ids)
      expect(received.map((e) => (e.data as { n: number }).n)).toEqual([1, 2, 3])

      const anumate = await call(
        `${gw.url}/events/publish?source=${encodeURIComponent('https://anumate.com/services/registry')}`,
        {
          token: admin,
          json: {
            event_type: 'com.anumate.capsule.created',
            data: { capsule_id: 'cap-1', name: 'terraform-aws', version: '2.0.0' },
            tenant_id: 'tenant-123',
          },
        },
      )
      expect(anumate.status).toBe(202)
      const stored = await call(`${gw.url}/api/v1/streams/anumate.capsules/events`, {
        token: admin,
      })
      expect(stored.status).toBe(200)
      const mine = stored.body.events.find((e: EventEnvelope) => e.id === anumate.body.event_id)
      expect(mine).toMatchObject({
        source: 'https://anumate.com/services/registry',
        tenantid: 'tenant-123',
      })
    })

    test('publish - a missing stream is created for an admin and a 404 for a publisher', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const publisher = await gw.token({ tenant: tenant(), roles: ['publisher'] })
      const missing = uniqueStream()
      const refused = await call(`${gw.url}/api/v1/events`, {
        token: publisher,
        json: { event_type: 'x.y', stream_id: missing, payload: {} },
      })
      expect(refused.status).toBe(404)
      expect((await call(`${gw.url}/api/v1/streams/${missing}`, { token: admin })).status).toBe(404)
      const created = await call(`${gw.url}/api/v1/events`, {
        token: admin,
        json: { event_type: 'x.y', stream_id: missing, payload: {} },
      })
      expect(created.status).toBe(202)
      const stream = await call(`${gw.url}/api/v1/streams/${missing}`, { token: admin })
      expect(stream.status).toBe(200)
      expect(stream.body).toMatchObject({ id: missing, partitions: 1 })
    })

    test('publish - malformed JSON 400, wrong content type 415, oversized 413, invalid body 400, failing schema 422', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const { stream, received } = await streamWithSubscriber()
      const token = await gw.token({ tenant: tenant(), roles: ['publisher'] })
      const url = `${gw.url}/api/v1/events`
      const malformed = await call(url, {
        token,
        body: '{"event_type": ',
        headers: { 'content-type': 'application/json' },
      })
      expect(malformed.status).toBe(400)
      expect(malformed.headers.get('content-type')).toMatch(/^application\/problem\+json/)
      const text = await call(url, {
        token,
        body: 'hello',
        headers: { 'content-type': 'text/plain' },
      })
      expect(text.status).toBe(415)
      expect(text.body.detail).toMatch(/text\/plain/)
      const big = await call(url, {
        token,
        json: { event_type: 'x.y', stream_id: stream, payload: { blob: 'x'.repeat(BODY_LIMIT) } },
      })
      expect(big.status).toBe(413)
      expect(big.headers.get('content-type')).toMatch(/^application\/problem\+json/)
      const shape = await call(url, { token, json: { stream_id: stream, payload: {} } })
      expect(shape.status).toBe(400)
      expect(shape.body.detail).toMatch(/event_type/)
      const invalid = await call(url, {
        token,
        json: { event_type: 'employee.created', stream_id: stream, payload: { employee_id: 'e1' } },
      })
      expect(invalid.status).toBe(422)
      expect(invalid.body.issues.map((i: { path: string }) => i.path)).toEqual(
        expect.arrayContaining(['data.email', 'data.first_name', 'data.last_name']),
      )
      expect(received).toHaveLength(0)
    })

    test('publish - over the per-tenant limit is 429 with Retry-After, other tenants unaffected', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const busy = await gw.token({ tenant: tenant(), roles: ['subscriber'] })
      const statuses: number[] = []
      let retryAfter: string | null = null
      for (let i = 0; i < 50; i++) {
        const res = await call(`${gw.url}/api/v1/streams`, { token: busy })
        statuses.push(res.status)
        if (res.status === 429) retryAfter = res.headers.get('retry-after')
      }
      expect(statuses).toContain(429)
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1)
      const calm = await gw.token({ tenant: tenant(), roles: ['subscriber'] })
      expect((await call(`${gw.url}/api/v1/streams`, { token: calm })).status).toBe(200)
    })

    test('cloudevents - binary, structured and batch modes reach a subscriber unchanged', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const { stream, received } = await streamWithSubscriber()
      const url = `${gw.url}/api/v1/events?stream_id=${stream}`
      const id = randomUUID()
      const binary = await call(url, {
        token: admin,
        body: JSON.stringify({ amount: 10, note: 'ünïcode' }),
        headers: {
          'content-type': 'application/json',
          'ce-specversion': '1.0',
          'ce-id': id,
          'ce-source': '/payments',
          'ce-type': 'payment.made',
          'ce-time': '2026-01-02T03:04:05.678Z',
          'ce-subject': 'pay 1',
          'ce-tenantid': 'acme',
          'ce-region': 'eu%20west',
        },
      })
      expect(binary.status).toBe(202)
      const structured: Record<string, unknown> = {
        specversion: '1.0',
        id: randomUUID(),
        source: '/payments',
        type: 'payment.refunded',
        time: '2026-01-02T03:04:06.000Z',
        datacontenttype: 'application/json',
        correlationid: 'c-1',
        region: 'us',
        data: { amount: 5 },
      }
      const one = await call(url, {
        token: admin,
        body: JSON.stringify(structured),
        headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
      })
      expect(one.status).toBe(202)
      const batch = [
        { ...structured, id: randomUUID(), type: 'payment.a' },
        {
          specversion: '1.0',
          id: randomUUID(),
          source: '/raw',
          type: 'payment.b',
          time: '2026-01-02T03:04:07.000Z',
          datacontenttype: 'application/octet-stream',
          data_base64: Buffer.from([1, 2, 255]).toString('base64'),
        },
      ]
      const many = await call(url, {
        token: admin,
        body: JSON.stringify(batch),
        headers: { 'content-type': 'application/cloudevents-batch+json' },
      })
      expect(many.status).toBe(202)
      expect(many.body.event_ids).toEqual(batch.map((e) => e.id))
      await waitUntil(() => received.length === 4, {
        message: 'four events',
        describe: () => String(received.length),
      })
      expect(received[0]).toEqual({
        specversion: '1.0',
        id,
        source: '/payments',
        type: 'payment.made',
        time: '2026-01-02T03:04:05.678Z',
        subject: 'pay 1',
        tenantid: 'acme',
        datacontenttype: 'application/json',
        extensions: { region: 'eu west' },
        data: { amount: 10, note: 'ünïcode' },
      })
      const { region, ...attributes } = structured
      expect(received[1]).toEqual({ ...attributes, extensions: { region } })
      expect(received[2]).toMatchObject({
        id: batch[0]!.id,
        type: 'payment.a',
        data: { amount: 5 },
      })
      expect(received[3]).toMatchObject({
        id: batch[1]!.id,
        datacontenttype: 'application/octet-stream',
      })
      expect([...(received[3]!.data as Uint8Array)]).toEqual([1, 2, 255])
      const browsed = await call(`${gw.url}/api/v1/streams/${stream}/events`, { token: admin })
      expect(browsed.body.events[3]).toMatchObject({
        id: batch[1]!.id,
        data_base64: batch[1]!.data_base64,
      })
      const noStream = await call(`${gw.url}/api/v1/events`, {
        token: admin,
        body: JSON.stringify(structured),
        headers: { 'content-type': 'application/cloudevents+json' },
      })
      expect(noStream.status).toBe(400)
      const missingId = await call(url, {
        token: admin,
        body: '{}',
        headers: {
          'content-type': 'application/json',
          'ce-specversion': '1.0',
          'ce-source': '/x',
          'ce-type': 't',
        },
      })
      expect(missingId.status).toBe(400)
      expect(missingId.body.detail).toMatch(/"id"/)
    })

    test('streams - create, conflict, get, list; browse is paged and shows a tenant its own events only', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const stream = uniqueStream()
      const body = {
        id: stream,
        description: 'orders',
        partitions: 3,
        retention_ms: 86_400_000,
        compression: 'lz4',
        cleanup_policy: 'delete',
      }
      const created = await call(`${gw.url}/api/v1/streams`, { token: admin, json: body })
      expect(created.status).toBe(201)
      expect(created.body).toMatchObject(body)
      expect((await call(`${gw.url}/api/v1/streams`, { token: admin, json: body })).status).toBe(
        409,
      )
      expect(
        (await call(`${gw.url}/api/v1/streams`, { token: admin, json: { id: 'bad id!' } })).status,
      ).toBe(400)
      const broken = await call(`${gw.url}/api/v1/streams`, {
        token: admin,
        body: '{"id": ',
        headers: { 'content-type': 'application/json' },
      })
      expect(broken.status).toBe(400)
      expect(broken.body.detail).toMatch(/JSON/)
      const plain = await call(`${gw.url}/api/v1/streams`, {
        token: admin,
        body: 'id=x',
        headers: { 'content-type': 'text/plain' },
      })
      expect(plain.status).toBe(415)
      expect(plain.headers.get('content-type')).toMatch(/^application\/problem\+json/)
      const list = await call(`${gw.url}/api/v1/streams`, { token: admin })
      expect(list.body.streams.map((x: { id: string }) => x.id)).toContain(stream)

      const [a, b] = [tenant(), tenant()]
      const tokenA = await gw.token({ tenant: a, roles: ['publisher', 'subscriber'] })
      const tokenB = await gw.token({ tenant: b, roles: ['publisher', 'subscriber'] })
      for (const [token, n] of [
        [tokenA, 5],
        [tokenB, 2],
      ] as const) {
        const events = Array.from({ length: n }, (_, i) => ({
          event_type: 'x.y',
          stream_id: stream,
          payload: { i },
        }))
        expect(
          (await call(`${gw.url}/api/v1/events/batch`, { token, json: { events } })).status,
        ).toBe(202)
      }
      const page1 = await call(`${gw.url}/api/v1/streams/${stream}/events?limit=3`, {
        token: tokenA,
      })
      expect(page1.status).toBe(200)
      expect(page1.body.events).toHaveLength(3)
      expect(page1.body.next_offset).toBe(3)
      const page2 = await call(`${gw.url}/api/v1/streams/${stream}/events?limit=3&offset=3`, {
        token: tokenA,
      })
      expect(page2.body.events).toHaveLength(2)
      expect(page2.body.next_offset).toBeNull()
      const seenByA = [...page1.body.events, ...page2.body.events]
      expect(seenByA.every((e: EventEnvelope) => e.tenantid === a)).toBe(true)
      const seenByB = await call(`${gw.url}/api/v1/streams/${stream}/events`, { token: tokenB })
      expect(seenByB.body.events.map((e: EventEnvelope) => e.tenantid)).toEqual([b, b])
      const all = await call(`${gw.url}/api/v1/streams/${stream}/events`, { token: admin })
      expect(all.body.events).toHaveLength(7)

      const metricsA = await call(`${gw.url}/api/v1/streams/${stream}/metrics`, { token: tokenA })
      expect(metricsA.status).toBe(200)
      expect(metricsA.body).toMatchObject({
        stream,
        tenant: a,
        published_total: 5,
        retained_count: 5,
        dead_letter_depth: 0,
      })
      expect(metricsA.body.publish_rate_per_second).toBeGreaterThan(0)
      expect(metricsA.body.consumer_groups).toBeNull()
      // A group that read everything: an unscoped token sees its figures from bus.inspect().
      let read = 0
      const sub = await gw.bus.subscribe(stream, () => void read++, {
        group: 'metrics-readers',
        startAt: 'earliest',
      })
      await waitUntil(() => read === 7, { timeoutMs: 20_000, message: 'the group to read all 7' })
      let metricsAll = await call(`${gw.url}/api/v1/streams/${stream}/metrics`, { token: admin })
      await waitUntil(
        async () => {
          metricsAll = await call(`${gw.url}/api/v1/streams/${stream}/metrics`, { token: admin })
          return metricsAll.body.consumer_groups?.[0]?.lag === 0
        },
        { timeoutMs: 20_000, message: 'the group to show lag 0' },
      )
      await sub.close()
      expect(metricsAll.body).toMatchObject({ published_total: 7, retained_count: 7 })
      expect(metricsAll.body.consumer_groups).toEqual([
        expect.objectContaining({ group: 'metrics-readers', lag: 0, dead_lettered: 0 }),
      ])
      expect(
        (await call(`${gw.url}/api/v1/streams/${uniqueStream()}/events`, { token: admin })).status,
      ).toBe(404)
    })

    test('streams - dead-letter depth in stream metrics counts a tenant its own dead letters only', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const stream = uniqueStream()
      expect(
        (await call(`${gw.url}/api/v1/streams`, { token: admin, json: { id: stream } })).status,
      ).toBe(201)
      let handled = 0
      await gw.bus.subscribe(
        stream,
        () => {
          handled++
          return outcome.deadLetter('refused by the test')
        },
        { group: `dlq-${stream}` },
      )
      const [a, b] = [tenant(), tenant()]
      const tokenA = await gw.token({ tenant: a, roles: ['publisher', 'subscriber'] })
      const tokenB = await gw.token({ tenant: b, roles: ['publisher', 'subscriber'] })
      for (const [token, n] of [
        [tokenA, 2],
        [tokenB, 1],
      ] as const) {
        const events = Array.from({ length: n }, () => ({
          event_type: 'x.y',
          stream_id: stream,
          payload: {},
        }))
        expect(
          (await call(`${gw.url}/api/v1/events/batch`, { token, json: { events } })).status,
        ).toBe(202)
      }
      await waitUntil(
        async () =>
          (await call(`${gw.url}/api/v1/streams/${stream}/metrics`, { token: admin })).body
            .dead_letter_depth === 3,
        { message: 'three dead letters', describe: () => `handled ${handled}` },
      )
      const forA = await call(`${gw.url}/api/v1/streams/${stream}/metrics`, { token: tokenA })
      expect(forA.body).toMatchObject({ tenant: a, dead_letter_depth: 2, retained_count: 2 })
      const forB = await call(`${gw.url}/api/v1/streams/${stream}/metrics`, { token: tokenB })
      expect(forB.body).toMatchObject({ tenant: b, dead_letter_depth: 1, retained_count: 1 })
    })

    test('schemas - catalogs preloaded; register, read back, 409 on a breaking version, 422 on publish', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const list = await call(`${gw.url}/api/v1/schemas`, { token: admin })
      const types = list.body.schemas.map((x: { event_type: string }) => x.event_type)
      expect(types).toEqual(
        expect.arrayContaining([
          'employee.created',
          'com.anumate.capsule.created',
          'marty.audit.user_login',
        ]),
      )
      const type = `custom.${randomBytes(3).toString('hex')}`
      const v1 = {
        type: 'object',
        properties: { sku: { type: 'string' }, qty: { type: 'integer' } },
        required: ['sku'],
        additionalProperties: false,
      }
      const publisher = await gw.token({ tenant: tenant(), roles: ['publisher'] })
      expect(
        (
          await call(`${gw.url}/api/v1/schemas`, {
            token: publisher,
            json: { event_type: type, schema: v1 },
          })
        ).status,
      ).toBe(403)
      const created = await call(`${gw.url}/api/v1/schemas`, {
        token: admin,
        json: { event_type: type, schema: v1 },
      })
      expect(created.status).toBe(201)
      expect(created.body).toMatchObject({ event_type: type, version: 1, origin: 'custom' })
      const read = await call(`${gw.url}/api/v1/schemas/${type}`, { token: publisher })
      expect(read.body).toMatchObject({ event_type: type, version: 1, schema: v1, versions: [1] })
      const breaking = { ...v1, required: ['sku', 'qty'] }
      const conflict = await call(`${gw.url}/api/v1/schemas`, {
        token: admin,
        json: { event_type: type, schema: breaking },
      })
      expect(conflict.status).toBe(409)
      expect(conflict.body.problems.length).toBeGreaterThan(0)
      const compatible = { ...v1, properties: { ...v1.properties, note: { type: 'string' } } }
      const v2 = await call(`${gw.url}/api/v1/schemas`, {
        token: admin,
        json: { event_type: type, schema: compatible },
      })
      expect(v2.status).toBe(201)
      expect(v2.body.version).toBe(2)
      const stream = uniqueStream()
      await call(`${gw.url}/api/v1/streams`, { token: admin, json: { id: stream } })
      const bad = await call(`${gw.url}/api/v1/events`, {
        token: publisher,
        json: { event_type: type, stream_id: stream, payload: { qty: 'x' } },
      })
      expect(bad.status).toBe(422)
      const good = await call(`${gw.url}/api/v1/events`, {
        token: publisher,
        json: { event_type: type, stream_id: stream, payload: { sku: 'a', note: 'n' } },
      })
      expect(good.status).toBe(202)
      expect((await call(`${gw.url}/api/v1/schemas/no.such.type`, { token: admin })).status).toBe(
        404,
      )
    })

    test('operations - /health without a token, /api/v1/status with one', async ({ skip: s }) => {
      if (skip) return s(skip)
      const health = await call(`${gw.url}/health`)
      expect(health.status).toBe(200)
      expect(health.body).toEqual({
        status: 'up',
        components: { broker: { status: 'up' }, database: { status: 'up' } },
      })
      expect((await call(`${gw.url}/api/v1/status`)).status).toBe(401)
      const status = await call(`${gw.url}/api/v1/status`, { token: admin })
      expect(status.status).toBe(200)
      expect(status.body).toMatchObject({
        status: 'up',
        transport: { name, status: 'up' },
        database: { kind: 'pglite' },
      })
    })
  })
}
