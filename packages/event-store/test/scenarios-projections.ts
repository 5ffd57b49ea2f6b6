import { createMemoryBroker, memoryTransport } from '@switchyard/adapter-memory'
import { createEventBus, type EventEnvelope } from '@switchyard/core'
import { createRelay } from '@switchyard/outbox'
import { describe, expect, it } from 'vitest'
import { archive, replay } from '../src/index.js'
import { departmentsProjection, hrEvents, rowsOf } from './projection-fixture.js'
import type { SuiteEnv } from './suite-env.js'
import { count, freshStore, uniqueSchema, waitFor } from './support.js'

export function projectionScenarios(env: SuiteEnv): void {
  describe('projections and publishing', () => {
    it('projections - rebuild from 0 gives the same read table as the inline projection, and so does the asynchronous one', async (ctx) => {
      if (env.skip) return ctx.skip(env.skip)
      const base = uniqueSchema('rm')
      const inline = departmentsProjection(`${base}_inline`)
      const later = departmentsProjection(`${base}_async`)
      await inline.create(env.fx.driver)
      await later.create(env.fx.driver)
      const { store } = await freshStore(env.fx.driver, { projections: [inline] })
      const runner = await store.startProjection(later, { batchSize: 7 })
      for (let i = 0; i < 60; i++) {
        await store.append(`employee-${i % 9}`, hrEvents(i))
        if (i % 10 === 0) await store.append(`payroll-${i}`, { type: 'payroll.run', data: {} })
      }
      const expected = await rowsOf(env.fx.driver, `${base}_inline`)
      expect(expected.length).toBe(3)
      const head = (await store.readAll({ limit: 1 })).headPosition
      await runner.waitFor(head)
      expect(await rowsOf(env.fx.driver, `${base}_async`)).toEqual(expected)
      expect(await store.checkpoint(`projection:${later.name}`)).toBe(head)
      // Damage the inline table, then rebuild it: identical again.
      await env.fx.driver.query(`UPDATE ${base}_inline SET staff = 999`)
      expect(await store.rebuildProjection(inline, { batchSize: 11 })).toBe(head)
      expect(await rowsOf(env.fx.driver, `${base}_inline`)).toEqual(expected)
      // Rebuild the asynchronous one while its runner keeps running: no event twice.
      expect(await store.rebuildProjection(later, { batchSize: 13 })).toBe(head)
      await store.append('employee-1', hrEvents(2))
      await runner.waitFor(head + 1)
      expect(await rowsOf(env.fx.driver, `${base}_async`)).toEqual(
        await rowsOf(env.fx.driver, `${base}_inline`),
      )
      await store.close()
    })

    it('publishing - appends reach the bus through the outbox; an append rolled back leaves nothing in the outbox and publishes nothing', async (ctx) => {
      if (env.skip) return ctx.skip(env.skip)
      const refuse = {
        name: 'refuse',
        handle(events: Array<{ event: EventEnvelope }>) {
          if (events.some((e) => e.event.type === 'employee.refused'))
            throw new Error('refused by the read model')
        },
      }
      const { store, outbox } = await freshStore(env.fx.driver, { projections: [refuse] })
      const broker = createMemoryBroker()
      const bus = createEventBus({ transport: memoryTransport({ broker }), source: 'consumer' })
      const received: EventEnvelope[] = []
      await bus.subscribe(
        'employee',
        (e) => {
          received.push(e)
        },
        { group: 'check' },
      )
      const relay = createRelay({ driver: env.fx.driver, bus, table: outbox, pollIntervalMs: 50 })
      await relay.start()
      const ok = await store.append('employee-1', {
        type: 'employee.hired',
        data: { department: 'eng' },
      })
      await expect(
        store.append('employee-1', [{ type: 'employee.approved' }, { type: 'employee.refused' }]),
      ).rejects.toThrow('refused by the read model')
      await expect(
        store.append('employee-1', { type: 'employee.approved' }, { expectedVersion: 7 }),
      ).rejects.toMatchObject({ name: 'WrongExpectedVersionError' })
      const last = await store.append('employee-2', { type: 'employee.hired' })
      await waitFor(() => received.length >= 2, 'the two committed events on the bus')
      await relay.drain()
      expect(received.map((e) => e.id)).toEqual([ok.events[0]!.event.id, last.events[0]!.event.id])
      expect(received[0]).toEqual(ok.events[0]!.event)
      expect(await count(env.fx.driver, `SELECT count(*) AS n FROM ${outbox}`)).toBe(2)
      expect((await store.readStream('employee-1')).version).toBe(1)
      expect((await store.readAll()).events).toHaveLength(2)
      await relay.stop()
      await bus.close()
    })

    it('publishing - without inline projections (one statement on PostgreSQL): events and their tenant reach the bus; a refused or repeated append enqueues nothing', async (ctx) => {
      if (env.skip) return ctx.skip(env.skip)
      const { store, outbox } = await freshStore(env.fx.driver)
      const bus = createEventBus({
        transport: memoryTransport({ broker: createMemoryBroker() }),
        source: 'consumer',
      })
      const received: EventEnvelope[] = []
      await bus.subscribe('employee', (e) => void received.push(e), { group: 'check' })
      const relay = createRelay({ driver: env.fx.driver, bus, table: outbox, pollIntervalMs: 50 })
      await relay.start()
      const first = await store.append(
        'employee-7',
        { type: 'employee.hired', data: { name: 'Ada' } },
        { tenant: 'acme' },
      )
      // No tenant given: the stream's is stamped on the stored and on the published event.
      const second = await store.append('employee-7', [
        { type: 'employee.approved', data: { days: 2 } },
        { type: 'employee.left', partitionkey: 'k' },
      ])
      await expect(
        store.append('employee-7', { type: 'employee.refused' }, { expectedVersion: 1 }),
      ).rejects.toMatchObject({ name: 'WrongExpectedVersionError' })
      const again = second.events.map((e) => e.event)
      expect((await store.append('employee-7', again, { expectedVersion: 1 })).idempotent).toBe(
        true,
      )
      await waitFor(() => received.length >= 3, 'the three appended events on the bus')
      await relay.drain()
      const appended = [...first.events, ...second.events].map((e) => e.event)
      expect(appended.map((e) => e.tenantid)).toEqual(['acme', 'acme', 'acme'])
      // Two partition keys: the bus orders per key only.
      const byId = (a: EventEnvelope, b: EventEnvelope) => a.id.localeCompare(b.id)
      expect([...received].sort(byId)).toEqual([...appended].sort(byId))
      const stored = (await store.readStream('employee-7')).events.map((e) => e.event)
      expect(stored).toEqual(appended)
      expect(await count(env.fx.driver, `SELECT count(*) AS n FROM ${outbox}`)).toBe(3)
      await relay.stop()
      await bus.close()
      await store.close()
    })

    it('archive - records every event of its topics once, also what the store published itself; replay publishes a range again with progress', async (ctx) => {
      if (env.skip) return ctx.skip(env.skip)
      const { store, outbox } = await freshStore(env.fx.driver)
      const bus = createEventBus({
        transport: memoryTransport({ broker: createMemoryBroker() }),
        source: 'hr',
      })
      const running = await archive(bus, store, { topics: ['leave', 'employee'], group: 'archive' })
      for (let i = 0; i < 5; i++)
        await bus.publish('leave', { type: 'leave.requested', data: { i } })
      const appended = await store.append('employee-9', { type: 'employee.hired' })
      const relay = createRelay({ driver: env.fx.driver, bus, table: outbox })
      await relay.drain()
      await waitFor(
        async () => (await store.countEvents({ topics: ['leave'] })) === 5,
        'the archive',
      )
      // The appended event came back through the bus: recorded once, under its stream.
      await bus.publish('employee', appended.events[0]!.event)
      await bus.publish(
        'leave',
        (await store.queryEvents({ topics: ['leave'], limit: 1 })).events[0]!.event,
      )
      // Markers after the duplicates, per topic: once they are stored, so were the duplicates.
      await bus.publish('employee', { type: 'employee.marker' })
      await bus.publish('leave', { type: 'leave.marker' })
      await waitFor(async () => (await store.countEvents({ types: ['*.marker'] })) === 2, 'markers')
      const all = (await store.readAll()).events
      expect(all).toHaveLength(8)
      expect(new Set(all.map((e) => e.event.id)).size).toBe(8)
      expect(all.find((e) => e.event.id === appended.events[0]!.event.id)?.streamId).toBe(
        'employee-9',
      )
      await running.close()
      const replayed: EventEnvelope[] = []
      await bus.subscribe(
        'leave.replayed',
        (e) => {
          replayed.push(e)
        },
        { group: 'r' },
      )
      const leave = (await store.queryEvents({ types: ['leave.requested'] })).events
      const progress: number[] = []
      const result = await replay(bus, store, {
        query: { topics: ['leave'], types: ['leave.requested'], fromPosition: leave[1]!.position },
        topic: 'leave.replayed',
        batchSize: 2,
        onProgress: (p) => progress.push(p.published),
      })
      expect(result).toEqual({ total: 4, published: 4, lastPosition: leave[4]!.position })
      expect(progress).toEqual([2, 4])
      await waitFor(() => replayed.length === 4, 'the replayed events')
      expect(replayed.map((e) => e.id).sort()).toEqual(
        leave
          .slice(1)
          .map((e) => e.event.id)
          .sort(),
      )
      await bus.close()
    })
  })
}
