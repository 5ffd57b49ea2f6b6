import { randomBytes } from 'node:crypto'
import { type EventEnvelope, readDeadLetter } from '@switchyard/core'
import type { Transport } from '@switchyard/core/transport'
import { waitUntil } from '@switchyard/testkit'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { verifyWebhook } from '../src/index.js'
import {
  byId,
  createStream,
  createSubscription,
  type Receiver,
  startReceiver,
  TEST_SUBSCRIPTIONS,
} from './subscriptions-support.js'
import { call, type RunningGateway, startGateway, uniqueStream } from './support.js'
import { connect } from './ws-client.js'

/** What the suite needs from a transport: a fresh one, or a reason to skip. */
export interface SubscriptionTarget {
  make(): Transport
  skip?: () => Promise<string | undefined>
}

const event = (i: number, extra: Partial<EventEnvelope> = {}) => ({
  type: 'order.placed',
  data: { n: i },
  ...extra,
})

/** Webhook and WebSocket subscriptions over one transport, with a real local HTTP receiver. */
export function subscriptionSuite(name: string, target: SubscriptionTarget): void {
  describe(`subscriptions over ${name}`, { timeout: 60_000 }, () => {
    let gw: RunningGateway
    let skip: string | undefined
    let admin: string
    const receivers: Receiver[] = []
    const receiver = async () => {
      const r = await startReceiver()
      receivers.push(r)
      return r
    }

    beforeAll(async () => {
      skip = await target.skip?.()
      if (skip !== undefined) return
      gw = await startGateway(target.make(), { subscriptions: TEST_SUBSCRIPTIONS })
      admin = await gw.token({ roles: ['admin'] })
    })
    afterAll(async () => {
      await gw?.close()
      for (const r of receivers) await r.close()
    })

    /** A stream, a receiver and a webhook subscription to it. */
    async function webhookSetup(body: object = {}, token?: string) {
      const stream = uniqueStream('sub')
      await createStream(gw, admin, stream)
      const hook = await receiver()
      const sub = await createSubscription(gw, token ?? admin, {
        subscription_name: `test ${stream}`,
        stream_id: stream,
        webhook_url: hook.url,
        ...body,
      })
      return { stream, hook, sub }
    }

    test('webhook - 1,000 events arrive once each, signed, in the CloudEvents binary mode', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const { stream, hook, sub } = await webhookSetup({ concurrency: 16 })
      expect(sub.secret).toMatch(/^whsec_/)
      const published = Array.from({ length: 1000 }, (_, i) => event(i))
      for (let i = 0; i < published.length; i += 100) {
        await gw.bus.publishBatch(stream, published.slice(i, i + 100))
      }
      await waitUntil(() => byId(hook.received).size >= 1000, {
        timeoutMs: 45_000,
        describe: () => `${byId(hook.received).size} of 1000`,
      })
      const reference = new Webhook(sub.secret)
      for (const [id, copies] of byId(hook.received)) {
        expect(copies, `event ${id} arrived ${copies.length} times`).toHaveLength(1)
        const [r] = copies as [(typeof copies)[0]]
        expect(verifyWebhook({ secret: sub.secret, headers: r.headers, body: r.body }).id).toBe(id)
        reference.verify(r.body, r.headers as Record<string, string>)
        expect(r.headers['ce-id']).toBe(id)
        expect(r.headers['ce-specversion']).toBe('1.0')
        expect(r.headers['ce-type']).toBe('order.placed')
        expect(r.headers['content-type']).toMatch(/^application\/json/)
        expect(JSON.parse(r.body.toString())).toHaveProperty('n')
      }
      // A tampered body does not verify.
      const first = hook.received[0]!
      expect(() =>
        verifyWebhook({ secret: sub.secret, headers: first.headers, body: `${first.body}x` }),
      ).toThrow(/signature/)
      const status = await call(`${gw.url}/api/v1/subscriptions/${sub.id}/status`, {
        token: admin,
      })
      expect(status.body).toMatchObject({ state: 'active', delivered: 1000, dead_lettered: 0 })
    })

    test('webhook - structured mode sends application/cloudevents+json', async ({ skip: s }) => {
      if (skip) return s(skip)
      const { stream, hook } = await webhookSetup({ content_mode: 'structured' })
      await gw.bus.publish(stream, event(1, { subject: 'ord-1' }))
      await waitUntil(() => hook.received.length >= 1)
      const [r] = hook.received as [Receiver['received'][0]]
      expect(r.headers['content-type']).toMatch(/^application\/cloudevents\+json/)
      expect(JSON.parse(r.body.toString())).toMatchObject({
        specversion: '1.0',
        type: 'order.placed',
        subject: 'ord-1',
        data: { n: 1 },
      })
    })

    test('webhook - a receiver down for 5 s gets everything once it is back', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const { stream, hook } = await webhookSetup({
        retry_policy: { max_attempts: 20, initial_backoff_ms: 200, max_backoff_ms: 1000 },
      })
      await hook.stop()
      const downAt = Date.now()
      await gw.bus.publishBatch(
        stream,
        Array.from({ length: 20 }, (_, i) => event(i)),
      )
      await new Promise((resolve) => setTimeout(resolve, 5_000))
      expect(hook.received).toHaveLength(0)
      await hook.start()
      await waitUntil(() => byId(hook.received).size >= 20, { timeoutMs: 20_000 })
      expect(Math.min(...hook.received.map((r) => r.at)) - downAt).toBeGreaterThanOrEqual(5_000)
    })

    test('webhook - 500 forever is dead-lettered after the policy attempts, status in the reason', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const { stream, hook, sub } = await webhookSetup({
        retry_policy: { max_attempts: 3, initial_backoff_ms: 50, max_backoff_ms: 100 },
      })
      hook.answer = () => ({ status: 500, body: 'database on fire\nline two' })
      const dead: EventEnvelope[] = []
      await gw.bus.subscribe(`${stream}.dlq`, (e) => void dead.push(e), {
        group: `dlq-${stream}`,
        startAt: 'earliest',
      })
      await gw.bus.publish(stream, event(1))
      await waitUntil(() => dead.length >= 1, { timeoutMs: 20_000 })
      const entry = readDeadLetter(dead[0]!)
      expect(entry.reason).toMatch(/HTTP 500: database on fire line two \(attempt 3 of 3\)/)
      expect(entry.error.name).toBe('WebhookDeliveryError')
      expect(entry.attempts).toBe(3)
      expect(hook.received).toHaveLength(3)
      await waitUntil(async () => {
        const status = await call(`${gw.url}/api/v1/subscriptions/${sub.id}/status`, {
          token: admin,
        })
        return status.body.dead_lettered === 1 && status.body.failed === 3
      })
      const status = await call(`${gw.url}/api/v1/subscriptions/${sub.id}/status`, {
        token: admin,
      })
      expect(status.body.last_error).toMatch(/HTTP 500/)
    })

    test('webhook - 429 with Retry-After: 2 is tried again no sooner than 2 s later', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const { stream, hook } = await webhookSetup({
        retry_policy: { max_attempts: 5, initial_backoff_ms: 10, max_backoff_ms: 10 },
      })
      hook.answer = () =>
        hook.received.length === 1
          ? { status: 429, headers: { 'retry-after': '2' } }
          : { status: 200 }
      await gw.bus.publish(stream, event(1))
      await waitUntil(() => hook.received.length >= 2, { timeoutMs: 15_000 })
      const [first, second] = hook.received as [Receiver['received'][0], Receiver['received'][0]]
      expect(second.headers['webhook-id']).toBe(first.headers['webhook-id'])
      expect(second.at - first.at).toBeGreaterThanOrEqual(2_000)
    })

    test('webhook - Retry-After back-offs use up no attempt, up to maxRetryAfterWaits (3 here)', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const { stream, hook } = await webhookSetup({
        retry_policy: { max_attempts: 2, initial_backoff_ms: 10, max_backoff_ms: 10 },
      })
      const busy = { status: 429, headers: { 'retry-after': '0' } }
      // Three waits, then a 503 without Retry-After (a failed attempt), then success: attempt 2 of 2.
      hook.answer = () =>
        hook.received.length <= 3
          ? busy
          : hook.received.length === 4
            ? { status: 503 }
            : { status: 204 }
      const dead: EventEnvelope[] = []
      await gw.bus.subscribe(`${stream}.dlq`, (e) => void dead.push(e), {
        group: `dlq-${stream}`,
        startAt: 'earliest',
      })
      await gw.bus.publish(stream, event(1))
      await waitUntil(() => hook.received.length >= 5, { timeoutMs: 15_000 })
      // Past the cap a 429 is a failed attempt: two of them end in the dead-letter topic.
      hook.answer = () => busy
      await gw.bus.publish(stream, event(2))
      await waitUntil(() => dead.length >= 1, { timeoutMs: 15_000 })
      expect(hook.received).toHaveLength(5 + 3 + 2)
      expect(byId(hook.received.slice(0, 5)).size).toBe(1)
      const entry = readDeadLetter(dead[0]!)
      expect(entry.reason).toMatch(/HTTP 429 \(attempt 2 of 2, after 3 Retry-After waits\)/)
      expect(entry.event?.data).toEqual({ n: 2 })
    })

    test('tenant - a tenant subscription never delivers another tenant, whatever its patterns', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const tenantA = `a-${randomBytes(3).toString('hex')}`
      const tokenA = await gw.token({ tenant: tenantA, roles: ['subscriber'] })
      const tokenB = await gw.token({ tenant: 'b-other', roles: ['subscriber'] })
      const stream = uniqueStream('sub')
      await createStream(gw, admin, stream)
      const hook = await receiver()
      const refused = await call(`${gw.url}/api/v1/subscriptions`, {
        token: tokenA,
        json: {
          subscription_name: 'x',
          stream_id: stream,
          webhook_url: hook.url,
          tenant_id: 'b-other',
        },
      })
      expect(refused.status).toBe(403)
      const sub = await createSubscription(gw, tokenA, {
        subscription_name: 'mine',
        stream_id: stream,
        webhook_url: hook.url,
        event_type_patterns: ['**'],
      })
      expect(sub.tenant_id).toBe(tenantA)
      await gw.bus.publishBatch(stream, [
        event(1, { tenantid: 'b-other' }),
        event(2, { tenantid: tenantA }),
        event(3),
        event(4, { tenantid: 'b-other' }),
        event(5, { tenantid: tenantA }),
      ])
      await waitUntil(() => hook.received.length >= 2)
      // The events after them were skipped too: a marker published last arrives, nothing else.
      await gw.bus.publish(stream, event(6, { tenantid: tenantA }))
      await waitUntil(() => hook.received.length >= 3)
      const numbers = hook.received.map((r) => JSON.parse(r.body.toString()).n as number)
      expect(numbers.sort()).toEqual([2, 5, 6])
      expect(hook.received.every((r) => r.headers['ce-tenantid'] === tenantA)).toBe(true)
      // Tenant B sees nothing of A's subscription.
      expect(
        (await call(`${gw.url}/api/v1/subscriptions/${sub.id}`, { token: tokenB })).status,
      ).toBe(404)
      const listB = await call(`${gw.url}/api/v1/subscriptions`, { token: tokenB })
      expect(listB.body.subscriptions.map((x: { id: string }) => x.id)).not.toContain(sub.id)
      const del = await call(`${gw.url}/api/v1/subscriptions/${sub.id}`, {
        token: tokenB,
        method: 'DELETE',
      })
      expect(del.status).toBe(404)
      const publisher = await gw.token({ roles: ['publisher'] })
      expect((await call(`${gw.url}/api/v1/subscriptions`, { token: publisher })).status).toBe(403)
    })

    test('webhook - a metadata address is refused with 400 and the reason', async ({ skip: s }) => {
      if (skip) return s(skip)
      const stream = uniqueStream('sub')
      await createStream(gw, admin, stream)
      for (const url of ['http://169.254.169.254/', 'http://[::ffff:169.254.169.254]/latest']) {
        const res = await call(`${gw.url}/api/v1/subscriptions`, {
          token: admin,
          json: { subscription_name: 'x', stream_id: stream, webhook_url: url },
        })
        expect(res.status).toBe(400)
        expect(res.body.detail).toMatch(/metadata address; refused/)
      }
      const local = await call(`${gw.url}/api/v1/subscriptions`, {
        token: admin,
        json: { subscription_name: 'x', stream_id: stream, webhook_url: 'http://10.1.2.3/' },
      })
      expect(local.status).toBe(400)
      expect(local.body.detail).toMatch(/private address/)
    })

    test('pause - a paused subscription delivers nothing until resumed, then everything', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const { stream, hook, sub } = await webhookSetup()
      const paused = await call(`${gw.url}/api/v1/subscriptions/${sub.id}/pause`, {
        token: admin,
        method: 'POST',
      })
      expect(paused.body.state).toBe('paused')
      await gw.bus.publishBatch(stream, [event(1), event(2)])
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect(hook.received).toHaveLength(0)
      await call(`${gw.url}/api/v1/subscriptions/${sub.id}/resume`, {
        token: admin,
        method: 'POST',
      })
      await waitUntil(() => hook.received.length >= 2)
      const del = await call(`${gw.url}/api/v1/subscriptions/${sub.id}`, {
        token: admin,
        method: 'DELETE',
      })
      expect(del.status).toBe(204)
      expect(
        (await call(`${gw.url}/api/v1/subscriptions/${sub.id}`, { token: admin })).status,
      ).toBe(404)
      // Its bus subscription is closed: what is published after the delete is not delivered.
      await gw.bus.publish(stream, event(3))
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect(hook.received).toHaveLength(2)
    })

    test('websocket - a client that stops acknowledging has its events redelivered to another', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const stream = uniqueStream('sub')
      await createStream(gw, admin, stream)
      const token = await gw.token({ roles: ['subscriber'] })
      const sub = await createSubscription(gw, token, {
        subscription_name: 'ws',
        stream_id: stream,
        delivery: 'websocket',
        ack_timeout_ms: 1000,
        retry_policy: { max_attempts: 5, initial_backoff_ms: 50, max_backoff_ms: 100 },
      })
      const wsUrl = `${gw.url.replace('http', 'ws')}/ws/subscriptions/${sub.id}`
      const silent = await connect(wsUrl, token)
      expect(silent.frames[0]).toMatchObject({ type: 'subscribed' })
      await gw.bus.publish(stream, event(1))
      await waitUntil(() => silent.events().length >= 1)
      const acking = await connect(`${wsUrl}?max_in_flight=10`, token, 'protocol')
      acking.ws.on('message', (data) => {
        const frame = JSON.parse(data.toString())
        if (frame.type === 'event')
          acking.ws.send(JSON.stringify({ type: 'ack', delivery_ids: [frame.delivery_id] }))
      })
      await waitUntil(() => acking.events().length >= 1, { timeoutMs: 10_000 })
      expect(acking.events()[0]!.id).toBe(silent.events()[0]!.id)
      const redelivered = acking.frames.find((f) => f.type === 'event')
      expect(redelivered.attempt).toBe(2)
      await waitUntil(() => acking.frames.some((f) => f.type === 'status'))
      await waitUntil(async () => {
        const status = await call(`${gw.url}/api/v1/subscriptions/${sub.id}/status`, { token })
        return status.body.delivered === 1
      })
      silent.close()
      acking.close()
    })
  })
}
