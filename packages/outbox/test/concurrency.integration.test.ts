import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRelay, enqueue, migrate, type OutboxDriver, pgDriver } from '../src/index.js'
import {
  count,
  dropOutbox,
  expectOrderedOnce,
  harness,
  numbered,
  POSTGRES_URL,
  postgresOrSkip,
  uniqueTable,
  waitFor,
} from './support.js'

const ROWS = 20_000
const KEYS = 200

describe('postgres concurrency', () => {
  let skip: string | undefined
  const drivers: OutboxDriver[] = []
  const driver = () => {
    const d = pgDriver({ connectionString: POSTGRES_URL, max: 4 })
    drivers.push(d)
    return d
  }
  beforeAll(async () => {
    skip = await postgresOrSkip()
  })
  afterAll(async () => {
    await Promise.all(drivers.map((d) => d.close()))
  })

  for (const [relays, concurrency] of [
    [2, 1],
    [4, 1],
    [2, 2],
  ] as const) {
    const title = `${relays} relays${concurrency > 1 ? ` × ${concurrency} transactions` : ''}`
    it(`relays - ${title} over ${ROWS} rows publish each exactly once, per-key order held`, async (ctx) => {
      if (skip) return ctx.skip(skip)
      const setup = driver()
      const table = uniqueTable()
      await migrate(setup, { table })
      // One row in 20 has no key; the rest spread over KEYS keys, interleaved as a real backlog is.
      const key = (i: number) => (i % 20 === 0 ? undefined : `customer-${(i * 7919) % KEYS}`)
      for (let from = 0; from < ROWS; from += 2_000) {
        await setup.transaction((tx) =>
          enqueue(tx, 'orders', numbered(2_000, key, from), { source: 'shop', table }),
        )
      }
      const h = await harness(['orders'])
      const perRelay: number[] = Array(relays).fill(0)
      const running = Array.from({ length: relays }, (_, r) =>
        createRelay({
          driver: driver(),
          bus: h.producer(),
          table,
          batchSize: 250,
          concurrency,
          lanesPerClaim: 16,
          hooks: {
            onPublished: ({ count: n }) => {
              perRelay[r]! += n
            },
          },
        }),
      )
      const started = Date.now()
      await Promise.all(running.map((r) => r.start()))
      await waitFor(() => h.received.length >= ROWS, `${ROWS} events`, 120_000)
      const elapsed = Date.now() - started
      await Promise.all(running.map((r) => r.stop()))
      const pending = `SELECT count(*) AS n FROM ${table} WHERE sent_at IS NULL`
      expect(await count(setup, pending)).toBe(0)
      // A short grace period in which a duplicate, if any, would still arrive.
      await new Promise((resolve) => setTimeout(resolve, 100))
      expectOrderedOnce(h, ROWS)
      expect(perRelay.reduce((a, b) => a + b, 0)).toBe(ROWS)
      // Every relay took part: the lanes spread the keys instead of one relay holding them all.
      expect(perRelay.every((n) => n > 0)).toBe(true)
      console.info(
        `[outbox] ${title} drained ${ROWS} rows in ${elapsed} ms; per relay: ${perRelay.join(', ')}`,
      )
      await h.close()
      await dropOutbox(setup, table)
    })
  }
})
