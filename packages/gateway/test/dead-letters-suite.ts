import { randomBytes } from 'node:crypto'
import { createEventBus, type EventBus, type EventEnvelope, silentLogger } from '@switchyard/core'
import type { Transport } from '@switchyard/core/transport'
import { waitUntil } from '@switchyard/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { call, type RunningGateway, startGateway, uniqueStream } from './support.js'

/** A transport factory whose transports share one broker, or a reason to skip. */
export interface DeadLetterTarget {
  make(): Transport
  skip?: () => Promise<string | undefined>
}

/**
 * The dead-letter routes over one transport: a worker bus (its own transport, as another service
 * would be) fails some events into `<stream>.dlq`; the API lists, filters, shows, replays and
 * discards them with each token's tenant and roles.
 */
export function deadLetterSuite(name: string, target: DeadLetterTarget): void {
  describe(`dead letters over ${name}`, () => {
    let gw: RunningGateway
    let worker: EventBus
    let skip: string | undefined
    let admin: string
    beforeAll(async () => {
      skip = await target.skip?.()
      if (skip !== undefined) return
      gw = await startGateway(target.make())
      // Silent: the dead letters it makes on purpose would fill the test output.
      worker = createEventBus({ transport: target.make(), source: 'worker', logger: silentLogger })
      admin = await gw.token({ roles: ['admin'] })
    })
    afterAll(async () => {
      await worker?.close()
      await gw?.close()
    })

    /**
     * A stream whose group `billing` fails events with `data.fail` (one attempt) until `healed`;
     * `handled` collects what it handled.
     */
    async function failingStream() {
      const stream = uniqueStream('dl')
      const created = await call(`${gw.url}/api/v1/streams`, { token: admin, json: { id: stream } })
      expect(created.status).toBe(201)
      const state = { healed: false, handled: [] as EventEnvelope[] }
      await worker.subscribe(
        stream,
        (event: EventEnvelope<{ fail?: string }>) => {
          if (!state.healed && event.data?.fail !== undefined) throw new Error(event.data.fail)
          state.handled.push(event)
        },
        { group: 'billing', retry: { maxAttempts: 1 }, startAt: 'earliest' },
      )
      const publish = (type: string, data: unknown, tenant?: string) =>
        call(`${gw.url}/api/v1/events`, {
          token: admin,
          json: { event_type: type, stream_id: stream, payload: data, tenant_id: tenant },
        })
      return { stream, state, publish }
    }

    const list = (stream: string, token: string, query = '') =>
      call(`${gw.url}/api/v1/streams/${stream}/dead-letters${query}`, { token })

    async function waitForDeadLetters(stream: string, count: number) {
      await waitUntil(async () => (await list(stream, admin)).body.matched >= count, {
        timeoutMs: 20_000,
        intervalMs: 100,
        message: `${count} dead letters on ${stream}.dlq`,
      })
    }

    test('dead letters - list filters by type, error text, group and time; show has the original event', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const { stream, publish } = await failingStream()
      const before = new Date(Date.now() - 1000).toISOString()
      expect((await publish('order.created', { fail: 'card declined' }, 'acme')).status).toBe(202)
      expect((await publish('order.cancelled', { fail: 'ledger locked' }, 'acme')).status).toBe(202)
      expect((await publish('invoice.sent', { fail: 'smtp refused' }, 'globex')).status).toBe(202)
      expect((await publish('order.created', { ok: true }, 'acme')).status).toBe(202)
      await waitForDeadLetters(stream, 3)

      const all = await list(stream, admin)
      expect(all.status).toBe(200)
      expect(all.body.dead_letter_topic).toBe(`${stream}.dlq`)
      expect(all.body.entries.map((e: { type: string }) => e.type).sort()).toEqual([
        'invoice.sent',
        'order.cancelled',
        'order.created',
      ])
      const orders = await list(stream, admin, '?type=order.*')
      expect(orders.body.matched).toBe(2)
      const declined = await list(stream, admin, '?error=DECLINED')
      expect(declined.body.entries).toHaveLength(1)
      const entry = declined.body.entries[0]
      expect(entry).toMatchObject({
        type: 'order.created',
        tenant: 'acme',
        group: 'billing',
        topic: stream,
        status: 'open',
        error: { message: 'card declined' },
      })
      expect(entry.reason).toMatch(/attempt/)
      expect((await list(stream, admin, '?group=other')).body.matched).toBe(0)
      expect((await list(stream, admin, `?since=${before}`)).body.matched).toBe(3)
      const future = new Date(Date.now() + 3_600_000).toISOString()
      expect((await list(stream, admin, `?since=${future}`)).body.matched).toBe(0)
      expect((await list(stream, admin, `?until=${before}`)).body.matched).toBe(0)
      const badTime = await list(stream, admin, '?since=yesterday')
      expect(badTime.status).toBe(400)
      expect(badTime.body.detail).toMatch(/since/)

      const shown = await call(`${gw.url}/api/v1/streams/${stream}/dead-letters/${entry.id}`, {
        token: admin,
      })
      expect(shown.status).toBe(200)
      expect(shown.body.event).toMatchObject({
        type: 'order.created',
        tenantid: 'acme',
        data: { fail: 'card declined' },
      })
      expect(shown.body.error.message).toBe('card declined')
      expect(shown.body.message.headers).toBeTypeOf('object')
      const missing = await call(`${gw.url}/api/v1/streams/${stream}/dead-letters/nope`, {
        token: admin,
      })
      expect(missing.status).toBe(404)
    })

    test('dead letters - a replayed entry is handled by the group and leaves the open list; discard hides one', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const { stream, state, publish } = await failingStream()
      await publish('order.created', { fail: 'card declined', n: 1 })
      await publish('order.created', { fail: 'card declined', n: 2 })
      await publish('order.created', { fail: 'card declined', n: 3 })
      await waitForDeadLetters(stream, 3)
      const ids: string[] = (await list(stream, admin)).body.entries.map(
        (e: { id: string }) => e.id,
      )
      state.healed = true

      const replay = await call(`${gw.url}/api/v1/streams/${stream}/dead-letters/replay`, {
        token: admin,
        json: { ids: ids.slice(0, 2) },
      })
      expect(replay.status).toBe(200)
      expect(replay.body).toEqual({ done: ids.slice(0, 2), skipped: [], failed: [] })
      await waitUntil(() => state.handled.length === 2, {
        timeoutMs: 20_000,
        message: 'the group handles both replayed events',
      })
      expect(state.handled.map((e) => (e.data as { n: number }).n).sort()).toHaveLength(2)

      const discard = await call(`${gw.url}/api/v1/streams/${stream}/dead-letters/discard`, {
        token: admin,
        json: { ids: [ids[2], 'no-such-id'] },
      })
      expect(discard.body).toEqual({
        done: [ids[2]],
        skipped: [{ id: 'no-such-id', reason: 'not found' }],
        failed: [],
      })
      await waitUntil(async () => (await list(stream, admin)).body.matched === 0, {
        timeoutMs: 10_000,
        intervalMs: 100,
        message: 'no open dead letter left',
      })
      const replayed = await list(stream, admin, '?status=replayed')
      expect(replayed.body.entries.map((e: { id: string }) => e.id).sort()).toEqual(
        ids.slice(0, 2).sort(),
      )
      expect(replayed.body.entries[0].actions[0]).toMatchObject({ action: 'replayed' })
      expect((await list(stream, admin, '?status=discarded')).body.matched).toBe(1)
      // A second replay of the same entry is skipped unless forced: no double delivery by accident.
      const again = await call(`${gw.url}/api/v1/streams/${stream}/dead-letters/replay`, {
        token: admin,
        json: { ids: [ids[0]] },
      })
      expect(again.body.skipped[0].reason).toMatch(/already replayed/)
    })

    test('dead letters - tenant and role: another tenant sees nothing of them, a subscriber cannot replay', async ({
      skip: s,
    }) => {
      if (skip) return s(skip)
      const { stream, publish } = await failingStream()
      await publish('order.created', { fail: 'acme failure' }, 'acme')
      await publish('order.created', { fail: 'globex failure' }, 'globex')
      await waitForDeadLetters(stream, 2)
      const acmeAdmin = await gw.token({ tenant: 'acme', roles: ['admin'] })
      const globexReader = await gw.token({ tenant: 'globex', roles: ['subscriber'] })
      const acme = await list(stream, acmeAdmin)
      expect(acme.body.entries.map((e: { tenant: string }) => e.tenant)).toEqual(['acme'])
      const globex = await list(stream, globexReader)
      expect(globex.body.entries.map((e: { tenant: string }) => e.tenant)).toEqual(['globex'])
      const globexId = globex.body.entries[0].id
      // acme's admin cannot see, replay or discard globex's entry: it does not exist for acme.
      const peek = await call(`${gw.url}/api/v1/streams/${stream}/dead-letters/${globexId}`, {
        token: acmeAdmin,
      })
      expect(peek.status).toBe(404)
      const steal = await call(`${gw.url}/api/v1/streams/${stream}/dead-letters/discard`, {
        token: acmeAdmin,
        json: { ids: [globexId] },
      })
      expect(steal.body.skipped).toEqual([{ id: globexId, reason: 'not found' }])
      const denied = await call(`${gw.url}/api/v1/streams/${stream}/dead-letters/replay`, {
        token: globexReader,
        json: { ids: [globexId] },
      })
      expect(denied.status).toBe(403)
      expect(denied.body.detail).toMatch(/admin/)
      const scoped = await gw.token({ roles: ['subscriber:other.*'] })
      expect((await list(stream, scoped)).status).toBe(403)
      expect((await list(stream, '')).status).toBe(401)
      expect((await list(`missing-${randomBytes(3).toString('hex')}`, admin)).status).toBe(404)
      const empty = await call(`${gw.url}/api/v1/streams/${stream}/dead-letters/replay`, {
        token: admin,
        json: { ids: [] },
      })
      expect(empty.status).toBe(400)
    })
  })
}
