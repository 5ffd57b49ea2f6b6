import { ConfigurationError, type EventInput, SwitchyardError } from '@switchyard/core'
import { describe, expect, it } from 'vitest'
import { DuplicateEventError, StreamTenantError, WrongExpectedVersionError } from '../src/index.js'
import type { SuiteEnv } from './suite-env.js'
import { count, freshStore } from './support.js'

const hired = (name: string) => ({ type: 'employee.hired', data: { name } })

export function appendScenarios(env: SuiteEnv): void {
  describe('append', () => {
    it('append - expected versions no_stream, exists, a number and any; a conflict names the actual version', async (ctx) => {
      if (env.skip) return ctx.skip(env.skip)
      const { store } = await freshStore(env.fx.driver)
      await expect(
        store.append('employee-a', hired('a'), { expectedVersion: 'exists' }),
      ).rejects.toMatchObject({
        name: 'WrongExpectedVersionError',
        actualVersion: 0,
      })
      const first = await store.append('employee-a', [hired('a'), hired('b')], {
        expectedVersion: 'no_stream',
      })
      expect(first.nextExpectedVersion).toBe(2)
      expect(first.events.map((e) => e.streamVersion)).toEqual([1, 2])
      const error = await store
        .append('employee-a', hired('c'), { expectedVersion: 'no_stream' })
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(WrongExpectedVersionError)
      expect(error).toBeInstanceOf(SwitchyardError)
      expect(error).toMatchObject({
        code: 'ERR_WRONG_EXPECTED_VERSION',
        actualVersion: 2,
        expectedVersion: 'no_stream',
        streamId: 'employee-a',
      })
      await expect(
        store.append('employee-a', hired('c'), { expectedVersion: 1 }),
      ).rejects.toMatchObject({ actualVersion: 2 })
      expect(
        (await store.append('employee-a', hired('c'), { expectedVersion: 2 })).nextExpectedVersion,
      ).toBe(3)
      expect(
        (await store.append('employee-a', hired('d'), { expectedVersion: 'exists' }))
          .nextExpectedVersion,
      ).toBe(4)
      expect((await store.append('employee-a', hired('e'))).nextExpectedVersion).toBe(5)
      const read = await store.readStream('employee-a')
      expect(read.version).toBe(5)
      expect(read.events.map((e) => (e.event.data as { name: string }).name)).toEqual([
        'a',
        'b',
        'c',
        'd',
        'e',
      ])
    })

    it('append - concurrent appends with the same expected version: exactly one wins, the others get WrongExpectedVersionError', async (ctx) => {
      if (env.skip) return ctx.skip(env.skip)
      const { store, outbox } = await freshStore(env.fx.driver)
      await store.append('order-1', { type: 'order.placed' }, { expectedVersion: 'no_stream' })
      for (const expectedVersion of [1, 'no_stream'] as const) {
        const stream = expectedVersion === 1 ? 'order-1' : 'order-2'
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) =>
            store.append(
              stream,
              { type: 'order.updated', data: { writer: i } },
              { expectedVersion },
            ),
          ),
        )
        const won = results.filter((r) => r.status === 'fulfilled')
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
        expect(won).toHaveLength(1)
        expect(lost).toHaveLength(9)
        for (const r of lost) {
          expect(r.reason).toBeInstanceOf(WrongExpectedVersionError)
          expect(r.reason.actualVersion).toBe(expectedVersion === 1 ? 2 : 1)
        }
      }
      expect((await store.readStream('order-1')).version).toBe(2)
      expect((await store.readStream('order-2')).version).toBe(1)
      // Losers rolled back whole: only the three winning events reached the outbox.
      expect(await count(env.fx.driver, `SELECT count(*) AS n FROM ${outbox}`)).toBe(3)
    })

    it('append - idempotent on event id: the same append repeated writes nothing and enqueues nothing', async (ctx) => {
      if (env.skip) return ctx.skip(env.skip)
      const { store, outbox } = await freshStore(env.fx.driver)
      const events = [
        { id: 'evt-1', type: 'employee.hired', data: { name: 'Ada' } },
        { id: 'evt-2', type: 'employee.approved' },
      ]
      const first = await store.append('employee-1', events, { expectedVersion: 'no_stream' })
      const again = await store.append('employee-1', events, { expectedVersion: 'no_stream' })
      expect(first.idempotent).toBe(false)
      expect(again.idempotent).toBe(true)
      expect(again.nextExpectedVersion).toBe(2)
      expect(again.position).toBe(first.position)
      expect(await store.append('employee-1', events)).toMatchObject({ idempotent: true })
      expect((await store.readStream('employee-1')).events).toHaveLength(2)
      expect(await count(env.fx.driver, `SELECT count(*) AS n FROM ${outbox}`)).toBe(2)
      // The same ids at another expected version are a different append: a conflict.
      await expect(
        store.append('employee-1', events, { expectedVersion: 2 }),
      ).rejects.toBeInstanceOf(WrongExpectedVersionError)
      // Part of them, or them in another stream: refused, nothing written.
      await expect(
        store.append('employee-1', [events[0]!, { id: 'evt-3', type: 'x' }]),
      ).rejects.toBeInstanceOf(DuplicateEventError)
      await expect(store.append('employee-2', events[0]!)).rejects.toMatchObject({
        code: 'ERR_DUPLICATE_EVENT',
      })
      expect((await store.readStream('employee-2')).exists).toBe(false)
      expect((await store.readAll()).events).toHaveLength(2)
      // A repeat found by the insert (its version matched) is undone and repeated with a lookup:
      // no gap in the positions.
      const one = { id: 'evt-9', type: 'employee.left' }
      const single = await store.append('employee-3', one)
      expect(await store.append('employee-3', one, { expectedVersion: 'exists' })).toMatchObject({
        idempotent: true,
        position: single.position,
        nextExpectedVersion: 1,
      })
      // In a transaction of the caller's, where a failed insert would abort it: looked up first.
      const inTx = await env.fx.driver.transaction((tx) =>
        store.append('employee-3', one, { tx, expectedVersion: 'any' }),
      )
      expect(inTx).toMatchObject({ idempotent: true, position: single.position })
      const next = await store.append('employee-1', { type: 'employee.moved' })
      expect(next).toMatchObject({ position: single.position + 1, nextExpectedVersion: 3 })
      const all = (await store.readAll()).events
      expect(all.map((e) => e.position)).toEqual([1, 2, 3, 4])
      expect(await count(env.fx.driver, `SELECT count(*) AS n FROM ${outbox}`)).toBe(4)
    })

    it('append - envelopes: aggregate id as subject and partitionkey, type as extension aggregatetype, attributes given kept', async (ctx) => {
      if (env.skip) return ctx.skip(env.skip)
      const { store } = await freshStore(env.fx.driver, { source: 'hr' })
      const result = await store.append('employee-7f3a-9', <EventInput[]>[
        { type: 'employee.hired', data: { name: 'Ada' } },
        {
          type: 'employee.left',
          subject: 'custom',
          source: 'other',
          correlationid: 'c1',
          extensions: { userid: 'u1' },
          data: new Uint8Array([0, 255]),
        },
      ])
      const [a, b] = (await store.readStream('employee-7f3a-9')).events
      expect(a!.event).toMatchObject({
        specversion: '1.0',
        source: 'hr',
        subject: '7f3a-9',
        partitionkey: '7f3a-9',
        extensions: { aggregatetype: 'employee' },
      })
      expect(a!.event).toEqual(result.events[0]!.event)
      expect(b!.event).toMatchObject({
        subject: 'custom',
        source: 'other',
        correlationid: 'c1',
        extensions: { userid: 'u1', aggregatetype: 'employee' },
      })
      expect(b!.event.data).toEqual(new Uint8Array([0, 255]))
      expect(a!.topic).toBe('employee')
      expect(a!.position + 1).toBe(b!.position)
    })

    it('tenant - a stream belongs to one tenant: another tenant cannot append, and reads given a tenant see only theirs', async (ctx) => {
      if (env.skip) return ctx.skip(env.skip)
      const { store } = await freshStore(env.fx.driver)
      await store.append('account-1', { type: 'account.opened' }, { tenant: 'acme' })
      await store.append('account-2', { type: 'account.opened', tenantid: 'globex' })
      await store.append('account-1', { type: 'account.credited' })
      await expect(
        store.append('account-1', { type: 'account.debited' }, { tenant: 'globex' }),
      ).rejects.toBeInstanceOf(StreamTenantError)
      await expect(
        store.append('account-3', { type: 'a', tenantid: 'x' }, { tenant: 'y' }),
      ).rejects.toBeInstanceOf(ConfigurationError)
      const acme = await store.readStream('account-1', { tenant: 'acme' })
      expect(acme.events.map((e) => e.event.tenantid)).toEqual(['acme', 'acme'])
      expect(await store.readStream('account-1', { tenant: 'globex' })).toEqual({
        events: [],
        version: 0,
        exists: false,
      })
      const all = await store.readAll({ filter: { tenant: 'globex' } })
      expect(all.events.map((e) => e.streamId)).toEqual(['account-2'])
      const evolve = (n: number) => n + 1
      expect(
        (
          await store.aggregateStream('account-1', {
            evolve,
            initialState: () => 0,
            tenant: 'globex',
          })
        ).exists,
      ).toBe(false)
      const id = acme.events[0]!.event.id
      expect(await store.getEvent(id, { tenant: 'globex' })).toBeUndefined()
      expect((await store.getEvent(id, { tenant: 'acme' }))?.event.id).toBe(id)
    })

    it('append - invalid input is a ConfigurationError and writes nothing', async (ctx) => {
      if (env.skip) return ctx.skip(env.skip)
      const { store } = await freshStore(env.fx.driver)
      const bad: Array<() => Promise<unknown>> = [
        () => store.append('', { type: 'a' }),
        () => store.append('s-1', []),
        () => store.append('s-1', { type: 'a' }, { expectedVersion: -1 }),
        () => store.append('s-1', { type: 'a' }, { expectedVersion: 'maybe' as never }),
        () =>
          store.append('s-1', [
            { id: 'same', type: 'a' },
            { id: 'same', type: 'b' },
          ]),
        () => store.append('s-1', { type: 'a', time: 'yesterday' }),
        () => store.append('s-1', { type: 'a', bogus: 1 } as never),
      ]
      for (const call of bad) await expect(call()).rejects.toBeInstanceOf(ConfigurationError)
      expect((await store.readAll()).events).toHaveLength(0)
    })
  })
}
