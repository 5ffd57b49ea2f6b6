import { memoryTransport } from '@switchyard/adapter-memory'
import { createEventBus, dedup, type Outcome, outcome } from '@switchyard/core'
import { waitUntil } from '@switchyard/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  enqueue,
  migrate,
  migrateInbox,
  type OutboxDriver,
  pgInboxStore,
  type Queryable,
} from '../src/index.js'
import { count, dropOutbox, uniqueTable } from './support.js'

/** A database for the inbox scenarios. */
export interface InboxFixture {
  /** The driver of the first consumer. */
  driver: OutboxDriver
  /**
   * A driver on its own connections, or undefined where the database has one connection only
   * (PGlite: transactions queue up, so two are never open at once).
   */
  another(): OutboxDriver | undefined
  close(): Promise<void>
}

const ctxOf = (id: string, group = 'billing') => ({ group, event: { id, source: 'test' } })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The inbox behaviour every database must show. */
export function inboxSuite(name: string, open: () => Promise<InboxFixture | string>): void {
  describe(`${name} inbox`, () => {
    let fx: InboxFixture
    let skip: string | undefined
    beforeAll(async () => {
      const opened = await open()
      if (typeof opened === 'string') skip = opened
      else fx = opened
    })
    afterAll(async () => {
      await fx?.close()
    })

    async function setup() {
      const table = uniqueTable('inbox_t')
      await migrateInbox(fx.driver, { table })
      await migrateInbox(fx.driver, { table }) // idempotent
      await fx.driver.query(`CREATE TABLE ${table}_work (event_id text NOT NULL)`)
      const cleanup = async () => {
        await fx.driver.query(`DROP TABLE ${table}`)
        await fx.driver.query(`DROP TABLE ${table}_work`)
      }
      return { table, cleanup }
    }
    const work = (table: string, id: string) => async (tx: Queryable) => {
      await tx.query(`INSERT INTO ${table}_work VALUES ($1)`, [id])
    }
    const worked = (table: string, id: string) =>
      count(fx.driver, `SELECT count(*) AS n FROM ${table}_work WHERE event_id = '${id}'`)

    it('inbox - a claim another consumer holds is busy, a handled one is done, a released one can be claimed again', async (ctx) => {
      if (skip) return ctx.skip(skip)
      const { table, cleanup } = await setup()
      try {
        const a = pgInboxStore({ driver: fx.driver, table })
        const b = pgInboxStore({ driver: fx.another() ?? fx.driver, table })
        expect(await a.claim('e1', 5_000)).toBe('claimed')
        expect(await b.claim('e1', 5_000)).toBe('busy')
        await b.release('e1') // not b's claim: nothing happens
        expect(await b.claim('e1', 5_000)).toBe('busy')
        await a.release('e1')
        expect(await b.claim('e1', 5_000)).toBe('claimed')
        await b.complete('e1', 60_000)
        expect(await a.claim('e1', 5_000)).toBe('done')
        // a released after its lease ran out and b claimed: a's release leaves b's claim alone.
        expect(await a.claim('e2', 50)).toBe('claimed')
        await sleep(100)
        expect(await b.claim('e2', 5_000)).toBe('claimed')
        await a.release('e2')
        expect(await a.claim('e2', 5_000)).toBe('busy')
      } finally {
        await cleanup()
      }
    })

    it('inbox - a lease or a record that expired can be claimed again; prune deletes expired rows only', async (ctx) => {
      if (skip) return ctx.skip(skip)
      const { table, cleanup } = await setup()
      try {
        const store = pgInboxStore({ driver: fx.driver, table })
        expect(await store.claim('dead', 50)).toBe('claimed') // a consumer that died holding it
        expect(await store.claim('old', 5_000)).toBe('claimed')
        await store.complete('old', 50)
        expect(await store.claim('kept', 5_000)).toBe('claimed')
        await store.complete('kept', 60_000)
        expect(await store.claim('live', 60_000)).toBe('claimed')
        await sleep(100)
        expect(await store.prune({ chunkSize: 1 })).toBe(2)
        expect(await count(fx.driver, `SELECT count(*) AS n FROM ${table}`)).toBe(2)
        expect(await store.claim('dead', 5_000)).toBe('claimed')
        expect(await store.claim('old', 5_000)).toBe('claimed')
        expect(await store.claim('kept', 5_000)).toBe('done')
        expect(await store.claim('live', 5_000)).toBe('busy')
        // Expired but not pruned yet: taken over in place.
        await store.complete('old', 50)
        await sleep(100)
        expect(await store.claim('old', 5_000)).toBe('claimed')
      } finally {
        await cleanup()
      }
    })

    it('inbox - handle commits the work with the record; a redelivered event is dropped without running the work', async (ctx) => {
      if (skip) return ctx.skip(skip)
      const { table, cleanup } = await setup()
      try {
        const inbox = pgInboxStore({ driver: fx.driver, table })
        expect(await inbox.handle(ctxOf('e1'), work(table, 'e1'))).toBeUndefined()
        let ran = 0
        const again = await inbox.handle(ctxOf('e1'), async (tx) => {
          ran++
          await work(table, 'e1')(tx)
        })
        expect(again).toEqual(outcome.drop('duplicate'))
        expect(ran).toBe(0)
        expect(await worked(table, 'e1')).toBe(1)
        // Another group handles the same event on its own.
        await inbox.handle(ctxOf('e1', 'audit'), work(table, 'e1'))
        expect(await worked(table, 'e1')).toBe(2)
        // The record is a done row, so the non-transactional form sees it too.
        expect(await inbox.claim('billing:e1', 5_000)).toBe('done')
        // A value the work returns comes back (the bus treats it as success).
        expect(await inbox.handle(ctxOf('e2'), () => 42)).toBe(42)
      } finally {
        await cleanup()
      }
    })

    it('inbox - handle rolls the work and the record back when the work throws, retries or dead-letters; the next delivery does the work once', async (ctx) => {
      if (skip) return ctx.skip(skip)
      const { table, cleanup } = await setup()
      try {
        const inbox = pgInboxStore({ driver: fx.driver, table })
        const failing = (result: () => Outcome) => async (tx: Queryable) => {
          await work(table, 'e1')(tx)
          return result()
        }
        await expect(
          inbox.handle(
            ctxOf('e1'),
            failing(() => {
              throw new Error('boom')
            }),
          ),
        ).rejects.toThrow('boom')
        const retry = outcome.retry({ delayMs: 5 })
        expect(
          await inbox.handle(
            ctxOf('e1'),
            failing(() => retry),
          ),
        ).toBe(retry)
        const dead = outcome.deadLetter('bad')
        expect(
          await inbox.handle(
            ctxOf('e1'),
            failing(() => dead),
          ),
        ).toBe(dead)
        expect(await worked(table, 'e1')).toBe(0)
        expect(await count(fx.driver, `SELECT count(*) AS n FROM ${table}`)).toBe(0)
        // A drop commits: the work decided the event needs nothing, and that is recorded.
        const dropped = outcome.drop('not ours')
        expect(
          await inbox.handle(
            ctxOf('e1'),
            failing(() => dropped),
          ),
        ).toBe(dropped)
        expect(await worked(table, 'e1')).toBe(1)
        expect(await inbox.handle(ctxOf('e1'), work(table, 'e1'))).toEqual(
          outcome.drop('duplicate'),
        )
        expect(await worked(table, 'e1')).toBe(1)
      } finally {
        await cleanup()
      }
    })

    it('inbox - handle of an event another consumer holds waits up to retryDelayMs: dropped if the holder commits, done here if it rolls back, else a retry', async (ctx) => {
      if (skip) return ctx.skip(skip)
      const { table, cleanup } = await setup()
      try {
        const inbox = pgInboxStore({ driver: fx.driver, table, retryDelayMs: 250 })
        // A claim of the non-transactional form (dedup({ store })) is live: busy.
        expect(await inbox.claim('billing:e1', 60_000)).toBe('claimed')
        expect(await inbox.handle(ctxOf('e1'), work(table, 'e1'))).toEqual(
          outcome.retry({ delayMs: 250 }),
        )
        const second = fx.another()
        if (second === undefined) return // one connection: transactions never overlap
        const other = pgInboxStore({ driver: second, table, retryDelayMs: 1_000 })
        /** Starts a handle of `id` on the first store that holds the event until `finish()`. */
        const hold = async (id: string, ending: 'commit' | 'throw') => {
          let finish = () => {}
          const gate = new Promise<void>((resolve) => {
            finish = resolve
          })
          let inside = () => {}
          const started = new Promise<void>((resolve) => {
            inside = resolve
          })
          const done = inbox.handle(ctxOf(id), async (tx) => {
            await work(table, id)(tx)
            inside()
            await gate
            if (ending === 'throw') throw new Error('holder failed')
          })
          done.catch(() => undefined)
          await started
          return { finish, done }
        }
        // The holder outlasts the wait: a retry, and nothing written by the second consumer.
        const slow = await hold('e2', 'commit')
        const short = pgInboxStore({ driver: second, table, retryDelayMs: 100 })
        expect(await short.handle(ctxOf('e2'), work(table, 'e2'))).toEqual(
          outcome.retry({ delayMs: 100 }),
        )
        slow.finish()
        await slow.done
        expect(await worked(table, 'e2')).toBe(1)
        // The holder commits while the second waits: dropped as a duplicate, no retry spent.
        const committing = await hold('e3', 'commit')
        const waiting = other.handle(ctxOf('e3'), work(table, 'e3'))
        await sleep(100)
        committing.finish()
        expect(await waiting).toEqual(outcome.drop('duplicate'))
        expect(await worked(table, 'e3')).toBe(1)
        // The holder rolls back while the second waits: the second does the work, with the
        // session's lock_timeout (0: none) back in place after its bounded wait.
        const failing = await hold('e4', 'throw')
        const takingOver = other.handle(ctxOf('e4'), async (tx) => {
          await work(table, 'e4')(tx)
          const { rows } = await tx.query(`SELECT current_setting('lock_timeout') AS t`)
          return (rows[0] as { t: string }).t
        })
        await sleep(100)
        failing.finish()
        await expect(failing.done).rejects.toThrow('holder failed')
        expect(await takingOver).toBe('0')
        expect(await worked(table, 'e4')).toBe(1)
      } finally {
        await cleanup()
      }
    })

    it('inbox - consume, write and enqueue in one transaction: a redelivered event writes and publishes once', async (ctx) => {
      if (skip) return ctx.skip(skip)
      const { table, cleanup } = await setup()
      const outbox = uniqueTable()
      await migrate(fx.driver, { table: outbox })
      const bus = createEventBus({ transport: memoryTransport(), source: 'billing' })
      try {
        const inbox = pgInboxStore({ driver: fx.driver, table })
        const outcomes: unknown[] = []
        await bus.subscribe(
          'orders',
          async (event, hctx) => {
            const result = await inbox.handle(hctx, async (tx) => {
              await work(table, event.id)(tx)
              await enqueue(
                tx,
                'invoices',
                { type: 'invoice.created', data: { order: event.id } },
                {
                  source: 'billing',
                  table: outbox,
                },
              )
            })
            outcomes.push(result)
            return result
          },
          { group: 'billing', concurrency: 1 },
        )
        const first = await bus.publish('orders', { type: 'order.paid' })
        await bus.publish('orders', { type: 'order.paid', id: first.id, time: first.time })
        await waitUntil(() => outcomes.length === 2, { message: 'both deliveries handled' })
        expect(outcomes[1]).toEqual(outcome.drop('duplicate'))
        expect(await worked(table, first.id)).toBe(1)
        expect(await count(fx.driver, `SELECT count(*) AS n FROM ${outbox}`)).toBe(1)
      } finally {
        await bus.close()
        await dropOutbox(fx.driver, outbox)
        await cleanup()
      }
    })

    it('inbox - dedup({ store: pgInboxStore }) over a bus handles a redelivered duplicate once', async (ctx) => {
      if (skip) return ctx.skip(skip)
      const { table, cleanup } = await setup()
      const inbox = pgInboxStore({ driver: fx.driver, table })
      const bus = createEventBus({
        transport: memoryTransport(),
        source: 'test',
        middleware: [dedup({ store: inbox })],
      })
      try {
        const handled: string[] = []
        await bus.subscribe('d', (e) => void handled.push(e.id), { group: 'g', concurrency: 1 })
        const event = await bus.publish('d', { type: 'x' })
        await bus.publish('d', { type: 'x', id: event.id, time: event.time })
        await bus.publish('d', { type: 'y' })
        await waitUntil(() => handled.length >= 2)
        await waitUntil(
          async () => (await count(fx.driver, `SELECT count(*) AS n FROM ${table}`)) === 2,
        )
        await sleep(100)
        expect(handled).toHaveLength(2)
        expect(await inbox.claim(`g:${event.id}`, 1_000)).toBe('done')
      } finally {
        await bus.close()
        await cleanup()
      }
    })
  })
}
