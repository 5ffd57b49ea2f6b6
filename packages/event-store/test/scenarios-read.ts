import { describe, expect, it } from 'vitest'
import type { RecordedEvent } from '../src/index.js'
import type { SuiteEnv } from './suite-env.js'
import { count, freshStore } from './support.js'

interface Employee {
  status: 'none' | 'hired' | 'approved' | 'left'
  leaves: number
}

const evolve = (state: Employee, { event }: RecordedEvent): Employee => {
  if (event.type === 'employee.hired') return { ...state, status: 'hired' }
  if (event.type === 'employee.approved') return { ...state, status: 'approved' }
  if (event.type === 'employee.leave.taken') return { ...state, leaves: state.leaves + 1 }
  if (event.type === 'employee.left') return { ...state, status: 'left' }
  return state
}
const initialState = (): Employee => ({ status: 'none', leaves: 0 })

export function readScenarios(env: SuiteEnv): void {
  describe('read', () => {
    it('readStream - from, direction and limit', async (ctx) => {
      if (env.skip) return ctx.skip(env.skip)
      const { store } = await freshStore(env.fx.driver)
      await store.append(
        'n-1',
        Array.from({ length: 10 }, (_, i) => ({ type: 'n', data: i })),
      )
      const versions = async (o: Parameters<typeof store.readStream>[1]) =>
        (await store.readStream('n-1', o)).events.map((e) => e.streamVersion)
      expect(await versions({ from: 4, limit: 3 })).toEqual([4, 5, 6])
      expect(await versions({ direction: 'backward', limit: 2 })).toEqual([10, 9])
      expect(await versions({ direction: 'backward', from: 3 })).toEqual([3, 2, 1])
      expect(await versions({ from: 11 })).toEqual([])
      expect((await store.readStream('n-1', { from: 11 })).version).toBe(10)
      expect(await store.readStream('n-2')).toEqual({ events: [], version: 0, exists: false })
    })

    it('aggregateStream - folds the events; snapshots stored every N and on demand are used, and a changed name ignores old ones', async (ctx) => {
      if (env.skip) return ctx.skip(env.skip)
      const { store, schema } = await freshStore(env.fx.driver)
      await store.append('employee-e1', [{ type: 'employee.hired' }, { type: 'employee.approved' }])
      await store.append(
        'employee-e1',
        Array.from({ length: 5 }, () => ({ type: 'employee.leave.taken' })),
      )
      const plain = await store.aggregateStream('employee-e1', { evolve, initialState })
      expect(plain).toEqual({
        state: { status: 'approved', leaves: 5 },
        version: 7,
        exists: true,
        fromSnapshot: 0,
      })
      const snapshot = { name: 'employee-v1', every: 5 }
      expect(
        (await store.aggregateStream('employee-e1', { evolve, initialState, snapshot }))
          .fromSnapshot,
      ).toBe(0)
      const stored = `SELECT count(*) AS n FROM ${schema}.snapshots WHERE version = 7`
      expect(await count(env.fx.driver, stored)).toBe(1)
      await store.append('employee-e1', { type: 'employee.left' })
      // The fold starts at the snapshot: an evolve that counts its calls sees one event.
      let calls = 0
      const counting = (s: Employee, e: RecordedEvent) => {
        calls++
        return evolve(s, e)
      }
      const later = await store.aggregateStream('employee-e1', {
        evolve: counting,
        initialState,
        snapshot,
      })
      expect(later).toEqual({
        state: { status: 'left', leaves: 5 },
        version: 8,
        exists: true,
        fromSnapshot: 7,
      })
      expect(calls).toBe(1)
      const onDemand = await store.snapshot('employee-e1', {
        evolve,
        initialState,
        snapshot: { name: 'employee-v1' },
      })
      expect(onDemand.version).toBe(8)
      calls = 0
      expect(
        (await store.aggregateStream('employee-e1', { evolve: counting, initialState, snapshot }))
          .fromSnapshot,
      ).toBe(8)
      expect(calls).toBe(0)
      const renamed = await store.aggregateStream('employee-e1', {
        evolve,
        initialState,
        snapshot: { name: 'employee-v2' },
      })
      expect(renamed.fromSnapshot).toBe(0)
      expect(renamed.state).toEqual({ status: 'left', leaves: 5 })
    })

    it('readAll - pages by position with a type-glob filter; nextPosition moves past what the filter skips', async (ctx) => {
      if (env.skip) return ctx.skip(env.skip)
      const { store } = await freshStore(env.fx.driver)
      for (let i = 0; i < 6; i++) {
        await store.append(`s-${i % 2}`, {
          type: i % 2 === 0 ? 'order.placed' : 'order.line.added',
        })
      }
      const first = await store.readAll({ limit: 4 })
      expect(first.events.map((e) => e.position)).toEqual([1, 2, 3, 4])
      expect(first).toMatchObject({ nextPosition: 5, headPosition: 6, caughtUp: false })
      const rest = await store.readAll({ from: first.nextPosition })
      expect(rest).toMatchObject({ nextPosition: 7, caughtUp: true })
      expect(rest.events.map((e) => e.position)).toEqual([5, 6])
      const placed = await store.readAll({ filter: { types: ['order.*'] } })
      expect(placed.events.map((e) => e.position)).toEqual([1, 3, 5])
      expect(placed.nextPosition).toBe(7)
      const all = await store.readAll({ filter: { types: ['order.**'] } })
      expect(all.events).toHaveLength(6)
    })

    it('record - the archive stores envelopes idempotent on id, with binary data; queries find them by glob, time range and aggregate', async (ctx) => {
      if (env.skip) return ctx.skip(env.skip)
      const { store } = await freshStore(env.fx.driver)
      const at = (minute: number) => `2030-01-01T00:0${minute}:00.000Z`
      const events = Array.from({ length: 6 }, (_, i) => ({
        specversion: '1.0' as const,
        id: `bus-${i}`,
        source: 'hr',
        type: i < 3 ? 'employee.hired' : 'leave.requested',
        time: at(i),
        subject: `e${i % 2}`,
        extensions: { aggregatetype: 'employee' },
        data: i === 0 ? new Uint8Array([1, 2, 3]) : { i },
      }))
      expect(await store.record('hr.events', events)).toEqual({ recorded: 6, skipped: 0 })
      expect(await store.record('hr.events', events.slice(0, 2))).toEqual({
        recorded: 0,
        skipped: 2,
      })
      const got = await store.getEvent('bus-0')
      expect(got).toMatchObject({ topic: 'hr.events', streamId: undefined, position: 1 })
      expect(got!.event.data).toEqual(new Uint8Array([1, 2, 3]))
      const page = await store.queryEvents({
        types: ['employee.*'],
        timeFrom: at(1),
        timeTo: at(3),
      })
      expect(page.events.map((e) => e.event.id)).toEqual(['bus-1', 'bus-2'])
      expect(page.next).toBeUndefined()
      const byAggregate = await store.queryEvents({ aggregateType: 'employee', aggregateId: 'e1' })
      expect(byAggregate.events.map((e) => e.event.id)).toEqual(['bus-1', 'bus-3', 'bus-5'])
      const paged = await store.queryEvents({ limit: 4 })
      expect(paged.next).toBe(4)
      const second = await store.queryEvents({ limit: 4, after: paged.next! })
      expect(second.events.map((e) => e.position)).toEqual([5, 6])
      const backward = await store.queryEvents({ direction: 'backward', limit: 2 })
      expect(backward.events.map((e) => e.position)).toEqual([6, 5])
      expect(await store.countEvents({ topics: ['hr.*'] })).toBe(6)
      expect(await store.countEvents({ topics: ['other'] })).toBe(0)
    })
  })
}
