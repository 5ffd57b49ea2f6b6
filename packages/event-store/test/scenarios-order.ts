import { describe, expect, it } from 'vitest'
import type { EventStore, RecordedEvent } from '../src/index.js'
import type { SuiteEnv } from './suite-env.js'
import { deferred, freshStore, waitFor } from './support.js'

const WRITERS = 10
const STREAMS = 100
const PER_WRITER = 30

/** Reads the global order like a checkpointing subscriber, page by page, as fast as it can. */
function follow(store: EventStore) {
  const seen: RecordedEvent[] = []
  let next = 1
  let stopped = false
  let gaps = 0
  const loop = (async () => {
    while (!stopped) {
      const page = await store.readAll({ from: next, limit: 37 })
      for (const e of page.events) {
        if (e.position !== (seen.at(-1)?.position ?? 0) + 1) gaps++
        seen.push(e)
      }
      next = page.nextPosition
      if (page.caughtUp) await new Promise((resolve) => setTimeout(resolve, 2))
    }
  })()
  return {
    seen,
    get next() {
      return next
    },
    get gaps() {
      return gaps
    },
    async stop() {
      stopped = true
      await loop
    },
  }
}

export function orderScenarios(env: SuiteEnv): void {
  describe('global order', () => {
    it('readAll - 10 concurrent writers on 100 streams, with transactions committing late: every event exactly once, in a stable order, nothing skipped by a reader following along', async (ctx) => {
      if (env.skip) return ctx.skip(env.skip)
      const { store } = await freshStore(env.fx.driver, { outbox: false })
      const writer2 = env.fx.another()
      const reader = follow(store)
      const subscribed: RecordedEvent[] = []
      const sub = await store.subscribeToAll(
        (e) => {
          subscribed.push(e)
        },
        { batchSize: 25 },
      )
      let started = 0
      const writers = Array.from({ length: WRITERS }, async (_, w) => {
        for (let i = 0; i < PER_WRITER; i++) {
          started++
          const stream = `load-${(w * 7 + i * 13) % STREAMS}`
          await store.append(stream, { type: 'load.written', data: { w, i } })
        }
      })
      const late: Array<Promise<unknown>> = []
      if (env.fx.concurrent) {
        // A transaction that began before most writers and commits after them.
        const holdBefore = deferred()
        late.push(
          writer2.transaction(async (tx) => {
            await tx.query('SELECT 1')
            await holdBefore.promise
            await store.append('late-before', { type: 'load.late' }, { tx })
          }),
        )
        // A transaction that holds its position uncommitted while the writers try to commit.
        const holdAfter = deferred()
        const appended = deferred()
        late.push(
          writer2.transaction(async (tx) => {
            await store.append('late-after', { type: 'load.late' }, { tx })
            appended.resolve()
            await holdAfter.promise
          }),
        )
        await appended.promise
        await waitFor(() => started >= WRITERS, 'every writer to start')
        // While it is open, nothing behind it is visible: readers cannot pass the open position.
        const during = await store.readAll({ limit: 10_000 })
        const { position: held } = (await store.readStream('late-after')).events[0] ?? {
          position: -1,
        }
        expect(held).toBe(-1)
        expect(during.headPosition).toBe(during.events.length)
        holdAfter.resolve()
        await waitFor(
          async () =>
            (await store.readAll({ limit: 1 })).headPosition >= (WRITERS * PER_WRITER) / 2,
          'half the writers to commit',
        )
        holdBefore.resolve()
      }
      await Promise.all([...writers, ...late])
      const total = WRITERS * PER_WRITER + late.length
      await waitFor(
        () => reader.next > total && subscribed.length >= total,
        'the readers to catch up',
      )
      await reader.stop()
      await sub.stop()
      const first = await store.readAll({ limit: 10_000 })
      const second = await store.readAll({ limit: 10_000 })
      expect(first.events).toHaveLength(total)
      expect(first.events.map((e) => e.position)).toEqual(
        Array.from({ length: total }, (_, i) => i + 1),
      )
      expect(new Set(first.events.map((e) => e.event.id)).size).toBe(total)
      expect(second.events.map((e) => e.event.id)).toEqual(first.events.map((e) => e.event.id))
      expect(reader.gaps).toBe(0)
      expect(reader.seen.map((e) => e.event.id)).toEqual(first.events.map((e) => e.event.id))
      expect(subscribed.map((e) => e.event.id)).toEqual(first.events.map((e) => e.event.id))
      if (env.fx.concurrent) {
        const positions = new Map(first.events.map((e) => [e.streamId, e.position]))
        // The late transactions committed after most writers: their positions say so.
        expect(positions.get('late-before')).toBeGreaterThan((WRITERS * PER_WRITER) / 2)
      }
      // Per stream, versions follow positions.
      const byStream = new Map<string, number[]>()
      for (const e of first.events)
        byStream.set(e.streamId!, [...(byStream.get(e.streamId!) ?? []), e.streamVersion!])
      for (const versions of byStream.values())
        expect(versions).toEqual(versions.map((_, i) => i + 1))
    })

    it('subscribeToAll - catches up, then goes live on NOTIFY; a named subscription resumes after its checkpoint; a filter skips and still moves the checkpoint', async (ctx) => {
      if (env.skip) return ctx.skip(env.skip)
      const { store } = await freshStore(env.fx.driver, { pollIntervalMs: 60_000 })
      await store.append('a-1', [{ type: 'a.one' }, { type: 'b.one' }, { type: 'a.two' }])
      const got: string[] = []
      const sub = await store.subscribeToAll(
        (e) => {
          got.push(e.event.type)
        },
        { name: 'typed', filter: { types: ['a.*'] } },
      )
      await sub.waitFor(3)
      expect(got).toEqual(['a.one', 'a.two'])
      await waitFor(async () => (await store.checkpoint('typed')) === 3, 'the checkpoint')
      // Live: the poll interval is a minute, so only the notification can wake it in time.
      await store.append('a-1', [{ type: 'b.two' }, { type: 'a.three' }])
      await sub.waitFor(5)
      expect(got).toEqual(['a.one', 'a.two', 'a.three'])
      await sub.stop()
      expect(await store.checkpoint('typed')).toBe(5)
      await store.append('a-2', { type: 'a.four' })
      const resumed: number[] = []
      const again = await store.subscribeToAll(
        (e) => {
          resumed.push(e.position)
        },
        { name: 'typed', from: 1 },
      )
      await again.waitFor(6)
      expect(resumed).toEqual([6])
      await again.stop()
      const fromEnd: number[] = []
      const tail = await store.subscribeToAll(
        (e) => {
          fromEnd.push(e.position)
        },
        { from: 'end' },
      )
      await store.append('a-2', { type: 'a.five' })
      await tail.waitFor(7)
      expect(fromEnd).toEqual([7])
      await store.close()
    })

    it('subscribeToAll - a failing handler is retried, nothing skipped, and the failure is reported', async (ctx) => {
      if (env.skip) return ctx.skip(env.skip)
      const { store } = await freshStore(env.fx.driver)
      await store.append('f-1', [{ type: 'f' }, { type: 'f' }, { type: 'f' }])
      const handled: number[] = []
      const errors: Error[] = []
      let failures = 2
      const sub = await store.subscribeToAll(
        (e) => {
          if (e.position === 2 && failures-- > 0) throw new Error('not yet')
          handled.push(e.position)
        },
        { name: 'flaky', retryDelayMs: 10, onError: (error) => errors.push(error) },
      )
      await sub.waitFor(3)
      await sub.stop()
      expect(handled).toEqual([1, 2, 3])
      expect(errors.map((e) => e.message)).toEqual(['not yet', 'not yet'])
    })
  })
}
