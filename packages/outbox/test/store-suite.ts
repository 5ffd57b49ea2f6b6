import { type EventInput, type Middleware, SchemaValidationError } from '@switchyard/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createRelay,
  enqueue,
  listParked,
  migrate,
  type OutboxDriver,
  type RelayOptions,
  requeueParked,
} from '../src/index.js'
import { type Harness, harness, uniqueTable, waitFor } from './support.js'

/** One database behind the outbox: PostgreSQL through `pg`, or PGlite. */
export interface StoreFixture {
  /** The driver relays and tests use. */
  driver: OutboxDriver
  /** A driver for a second relay (its own pool on PostgreSQL; the same instance on PGlite). */
  another(): OutboxDriver
  close(): Promise<void>
}

export const count = async (driver: OutboxDriver, sql: string): Promise<number> =>
  Number(((await driver.query(sql)).rows[0] as { n: number | string }).n)

/** `n` events numbered from `from`, keyed by `key(i)` (undefined: no key). */
export const numbered = (
  n: number,
  key: (i: number) => string | undefined,
  from = 0,
): EventInput[] =>
  Array.from({ length: n }, (_, j) => {
    const i = from + j
    const partitionkey = key(i)
    return {
      type: 'order.placed',
      data: { i },
      ...(partitionkey === undefined ? {} : { partitionkey }),
    }
  })

/** Asserts every id was handled once and, per (topic, key), in increasing `data.i`. */
export function expectOrderedOnce(h: Harness, total: number): void {
  expect(h.received).toHaveLength(total)
  expect(new Set(h.received.map((e) => e.id)).size).toBe(total)
  const last = new Map<string, number>()
  let keyed = 0
  h.received.forEach((event, index) => {
    if (event.partitionkey === undefined) return
    keyed++
    const key = `${h.topics[index]}|${event.partitionkey}`
    const i = (event.data as { i: number }).i
    const previous = last.get(key)
    if (previous !== undefined && i <= previous) {
      throw new Error(`Order broken for ${key}: ${i} after ${previous}`)
    }
    last.set(key, i)
  })
  expect(keyed).toBeGreaterThan(0)
}

/** The behaviour every store must show; run against each database. */
export function storeSuite(name: string, open: () => Promise<StoreFixture | string>): void {
  describe(name, () => {
    let fx: StoreFixture
    let skip: string | undefined
    beforeAll(async () => {
      const opened = await open()
      if (typeof opened === 'string') skip = opened
      else fx = opened
    })
    afterAll(async () => {
      await fx?.close()
    })

    async function setup(
      extra: Partial<RelayOptions> = {},
      topics = ['orders'],
      middleware: Middleware[] = [],
    ) {
      const table = uniqueTable()
      await migrate(fx.driver, { table })
      await fx.driver.query(
        `CREATE TABLE ${table}_orders (id text PRIMARY KEY, total int NOT NULL)`,
      )
      const h = await harness(topics)
      const bus = h.producer(middleware)
      const relay = createRelay({ driver: fx.driver, bus, table, pollIntervalMs: 50, ...extra })
      const cleanup = async () => {
        await relay.stop()
        await h.close()
        await fx.driver.query(`DROP TABLE ${table}`)
        await fx.driver.query(`DROP TABLE ${table}_orders`)
      }
      return { table, h, bus, relay, cleanup }
    }

    it('migrate - is idempotent and safe to run concurrently', async (ctx) => {
      if (skip) return ctx.skip(skip)
      const table = uniqueTable()
      await Promise.all([1, 2, 3].map(() => migrate(fx.driver, { table })))
      await migrate(fx.driver, { table })
      expect(await count(fx.driver, `SELECT count(*) AS n FROM ${table}`)).toBe(0)
      await fx.driver.query(`DROP TABLE ${table}`)
    })

    it('enqueue - rollback leaves no business row and publishes nothing', async (ctx) => {
      if (skip) return ctx.skip(skip)
      const { table, h, relay, cleanup } = await setup()
      const attempt = fx.driver.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table}_orders (id, total) VALUES ('o1', 10)`)
        await enqueue(
          tx,
          'orders',
          { type: 'order.placed', data: { id: 'o1' } },
          { source: 'shop', table },
        )
        throw new Error('payment declined')
      })
      await expect(attempt).rejects.toThrow('payment declined')
      expect(await count(fx.driver, `SELECT count(*) AS n FROM ${table}_orders`)).toBe(0)
      expect(await count(fx.driver, `SELECT count(*) AS n FROM ${table}`)).toBe(0)
      expect(await relay.drain()).toBe(0)
      expect(h.received).toHaveLength(0)
      await cleanup()
    })

    it('enqueue - commit publishes the event once with every attribute intact', async (ctx) => {
      if (skip) return ctx.skip(skip)
      const { table, h, relay, cleanup } = await setup()
      const [stored] = await fx.driver.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table}_orders (id, total) VALUES ('o1', 10)`)
        return enqueue(
          tx,
          'orders',
          {
            type: 'order.placed',
            subject: 'o1',
            data: { id: 'o1', total: 10, note: 'grüße' },
            partitionkey: 'customer-7',
            tenantid: 't1',
            correlationid: 'c1',
            extensions: { channel: 'web' },
          },
          { source: 'shop', table },
        )
      })
      expect(await count(fx.driver, `SELECT count(*) AS n FROM ${table}_orders`)).toBe(1)
      expect(await relay.drain()).toBe(1)
      await waitFor(() => h.received.length === 1, 'the event')
      expect(h.received[0]).toEqual(stored)
      expect(await relay.drain()).toBe(0)
      const binary = new Uint8Array([0, 1, 2, 255])
      const blob = {
        type: 'blob',
        source: 's',
        data: binary,
        datacontenttype: 'application/octet-stream',
      }
      await enqueue(fx.driver, 'orders', blob, { table })
      expect(await relay.drain()).toBe(1)
      await waitFor(() => h.received.length === 2, 'the binary event')
      expect(new Uint8Array(h.received[1]!.data as Uint8Array)).toEqual(binary)
      expect(h.received).toHaveLength(2)
      await cleanup()
    })

    it('enqueue - an event id still in the outbox is written once', async (ctx) => {
      if (skip) return ctx.skip(skip)
      const { table, cleanup } = await setup()
      const event = { id: 'fixed-id', type: 'order.placed', source: 'shop' }
      await enqueue(fx.driver, 'orders', event, { table })
      await enqueue(fx.driver, 'orders', [event, { ...event, id: 'other' }], { table })
      expect(await count(fx.driver, `SELECT count(*) AS n FROM ${table}`)).toBe(2)
      await cleanup()
    })

    it('relay - keeps per-key order across topics and many small batches', async (ctx) => {
      if (skip) return ctx.skip(skip)
      const { table, h, relay, cleanup } = await setup({ batchSize: 37, lanesPerClaim: 3 }, [
        'orders',
        'refunds',
      ])
      for (let t = 0; t < 4; t++) {
        await fx.driver.transaction(async (tx) => {
          const key = (i: number) => (i % 7 === 0 ? undefined : `k${i % 9}`)
          await enqueue(tx, 'orders', numbered(150, key, t * 1000), { source: 's', table })
          await enqueue(
            tx,
            'refunds',
            numbered(50, (i) => `k${i % 4}`, t * 1000),
            { source: 's', table },
          )
        })
      }
      expect(await relay.drain()).toBe(800)
      await waitFor(() => h.received.length === 800, '800 events')
      expectOrderedOnce(h, 800)
      await cleanup()
    })

    it('relay - two relays publish every row once, keys in order', async (ctx) => {
      if (skip) return ctx.skip(skip)
      const { table, h, relay, cleanup } = await setup({ batchSize: 50, lanesPerClaim: 4 })
      const second = createRelay({
        driver: fx.another(),
        bus: h.producer(),
        table,
        batchSize: 50,
        lanesPerClaim: 4,
      })
      await enqueue(
        fx.driver,
        'orders',
        numbered(1_000, (i) => (i % 10 === 0 ? undefined : `k${i % 23}`)),
        {
          source: 's',
          table,
        },
      )
      const [a, b] = await Promise.all([relay.drain(), second.drain()])
      expect(a + b).toBe(1_000)
      await waitFor(() => h.received.length === 1_000, '1 000 events')
      expectOrderedOnce(h, 1_000)
      await cleanup()
    })

    it('relay - while the bus is down rows stay and count attempts, then go out once', async (ctx) => {
      if (skip) return ctx.skip(skip)
      const failed: number[] = []
      const hooks = { onFailed: (info: { count: number }) => failed.push(info.count) }
      const { table, h, bus, relay, cleanup } = await setup({ backoff: () => 30, hooks })
      await enqueue(
        fx.driver,
        'orders',
        numbered(30, (i) => `k${i % 3}`),
        { source: 's', table },
      )
      bus.transport.faults.disconnect()
      await relay.drain()
      await relay.drain()
      const pending = `SELECT count(*) AS n FROM ${table} WHERE sent_at IS NULL AND parked_at IS NULL`
      expect(await count(fx.driver, pending)).toBe(30)
      expect(
        await count(fx.driver, `SELECT min(attempts) AS n FROM ${table}`),
      ).toBeGreaterThanOrEqual(1)
      expect(failed.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(30)
      expect(relay.stats().failed).toBeGreaterThanOrEqual(30)
      expect(await relay.lag()).toBeGreaterThan(0)
      bus.transport.faults.reconnect()
      await relay.start()
      await waitFor(async () => (await count(fx.driver, pending)) === 0, 'the outbox to drain')
      await waitFor(() => h.received.length === 30, '30 events')
      expectOrderedOnce(h, 30)
      expect(await relay.lag()).toBe(0)
      await cleanup()
    })

    it('relay - a row the bus refuses for good is parked alone, never dropped', async (ctx) => {
      if (skip) return ctx.skip(skip)
      let refuse = true
      const validate: Middleware = {
        name: 'validate',
        async publish(c, next) {
          if (refuse && (c.event.data as { i: number }).i === 4) {
            throw new SchemaValidationError([{ path: 'data.i', message: 'must not be 4' }])
          }
          await next()
        },
      }
      const parked: string[][] = []
      const { table, h, relay, cleanup } = await setup(
        { hooks: { onParked: (p) => parked.push(p.ids) } },
        ['orders'],
        [validate],
      )
      const stored = await enqueue(
        fx.driver,
        'orders',
        numbered(10, () => 'k'),
        { source: 's', table },
      )
      expect(await relay.drain()).toBe(9)
      await waitFor(() => h.received.length === 9, '9 events')
      expect(parked).toEqual([[stored[4]!.id]])
      const list = await listParked(fx.driver, { table })
      expect(list.map((p) => p.id)).toEqual([stored[4]!.id])
      expect(list[0]!.lastError).toContain('SchemaValidationError')
      expect(list[0]!.attempts).toBe(1)
      refuse = false
      expect(await requeueParked(fx.driver, { table })).toBe(1)
      expect(await relay.drain()).toBe(1)
      await waitFor(() => h.received.length === 10, 'the requeued event')
      expect(h.received[9]!.id).toBe(stored[4]!.id)
      await cleanup()
    })

    it('relay - parks a row after maxAttempts with its last error', async (ctx) => {
      if (skip) return ctx.skip(skip)
      const { table, bus, relay, cleanup } = await setup({ maxAttempts: 3, backoff: () => 0 })
      await enqueue(fx.driver, 'orders', { type: 'x', source: 's' }, { table })
      bus.transport.faults.failNextPublishes(100)
      await relay.drain()
      const [row] = await listParked(fx.driver, { table })
      expect(row?.attempts).toBe(3)
      expect(row?.lastError).toContain('Injected publish failure')
      expect(relay.stats()).toMatchObject({ parked: 1, failed: 2, published: 0 })
      expect(await count(fx.driver, `SELECT count(*) AS n FROM ${table}`)).toBe(1)
      await relay.cleanup()
      expect(await count(fx.driver, `SELECT count(*) AS n FROM ${table}`)).toBe(1)
      await cleanup()
    })

    it('relay - deletes sent rows after the retention period, or at once with 0', async (ctx) => {
      if (skip) return ctx.skip(skip)
      const { table, relay, cleanup } = await setup({ retentionMs: 1 })
      await enqueue(
        fx.driver,
        'orders',
        numbered(5, () => undefined),
        { source: 's', table },
      )
      await relay.drain()
      expect(
        await count(fx.driver, `SELECT count(*) AS n FROM ${table} WHERE sent_at IS NOT NULL`),
      ).toBe(5)
      await waitFor(async () => (await relay.cleanup()) > 0 || relay.stats().cleaned > 0, 'cleanup')
      expect(await count(fx.driver, `SELECT count(*) AS n FROM ${table}`)).toBe(0)
      const h2 = await harness(['orders'])
      const deleting = createRelay({ driver: fx.driver, bus: h2.producer(), table, retentionMs: 0 })
      await enqueue(
        fx.driver,
        'orders',
        numbered(5, () => undefined),
        { source: 's', table },
      )
      expect(await deleting.drain()).toBe(5)
      expect(await count(fx.driver, `SELECT count(*) AS n FROM ${table}`)).toBe(0)
      await h2.close()
      await cleanup()
    })

    it('relay - wakes on NOTIFY without waiting for the poll interval', async (ctx) => {
      if (skip) return ctx.skip(skip)
      const { table, h, relay, cleanup } = await setup({ pollIntervalMs: 600_000 })
      await relay.start()
      await relay.drain()
      const started = Date.now()
      await enqueue(fx.driver, 'orders', { type: 'ping', source: 's' }, { table })
      await waitFor(() => h.received.length === 1, 'the notified event', 5_000)
      expect(Date.now() - started).toBeLessThan(5_000)
      await cleanup()
    })

    it('relay - stop finishes the batch in hand', async (ctx) => {
      if (skip) return ctx.skip(skip)
      let entered!: () => void
      const inFlight = new Promise<void>((resolve) => {
        entered = resolve
      })
      let open!: () => void
      const gate = new Promise<void>((resolve) => {
        open = resolve
      })
      const slow: Middleware = {
        async publish(_c, next) {
          entered()
          await gate
          await next()
        },
      }
      const claimed: number[] = []
      const published: number[] = []
      const hooks = {
        onClaimed: (i: { count: number }) => claimed.push(i.count),
        onPublished: (i: { count: number }) => published.push(i.count),
      }
      const { table, h, relay, cleanup } = await setup({ hooks }, ['orders'], [slow])
      await enqueue(
        fx.driver,
        'orders',
        numbered(10, () => undefined),
        { source: 's', table },
      )
      await relay.start()
      await inFlight
      let stopped = false
      const stopping = relay.stop().then(() => {
        stopped = true
      })
      await new Promise((resolve) => setImmediate(resolve))
      expect(stopped).toBe(false)
      open()
      await stopping
      expect(relay.running).toBe(false)
      expect(
        await count(fx.driver, `SELECT count(*) AS n FROM ${table} WHERE sent_at IS NOT NULL`),
      ).toBe(10)
      await waitFor(() => h.received.length === 10, '10 events')
      expect(claimed).toEqual([10])
      expect(published).toEqual([10])
      await cleanup()
    })
  })
}
