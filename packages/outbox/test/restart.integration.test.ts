import { dedup, type Middleware } from '@switchyard/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRelay, enqueue, migrate, type OutboxDriver, pgDriver } from '../src/index.js'
import { type Cluster, postgresBinaries, startCluster } from './cluster.js'
import { count, expectOrderedOnce, harness, numbered, waitFor } from './support.js'

const ROWS = 5_000

describe('postgres restart', () => {
  let skip: string | undefined
  let cluster: Cluster | undefined
  const drivers: OutboxDriver[] = []

  beforeAll(async () => {
    const bin = postgresBinaries()
    if (bin === undefined) {
      skip =
        'PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql; run tooling/services/postgres.sh'
      if (process.env.CI) throw new Error(`CI is set: ${skip}`)
      console.warn(`[outbox tests] skipped: ${skip}`)
      return
    }
    cluster = await startCluster(bin)
  }, 120_000)

  afterAll(async () => {
    await Promise.all(drivers.map((d) => d.close()))
    await cluster?.destroy()
  }, 60_000)

  it('restart - relays reconnect after PostgreSQL restarts mid-drain and finish, nothing lost', async (ctx) => {
    if (skip || cluster === undefined) return ctx.skip(skip ?? 'no cluster')
    const open = () => {
      const driver = pgDriver({ connectionString: cluster!.url, max: 2, reconnectDelayMs: 100 })
      drivers.push(driver)
      return driver
    }
    const setup = open()
    await migrate(setup)
    await enqueue(
      setup,
      'orders',
      numbered(ROWS, (i) => `k${i % 20}`),
      { source: 'shop' },
    )
    // Slow publishing a little so the restart lands in the middle of the drain.
    const slow: Middleware = {
      async publish(_c, next) {
        await new Promise((resolve) => setTimeout(resolve, 10))
        await next()
      },
    }
    const h = await harness(['orders'], [dedup()])
    const errors: string[] = []
    const relays = [1, 2].map(() =>
      createRelay({
        driver: open(),
        bus: h.producer([slow]),
        batchSize: 20,
        lanesPerClaim: 8,
        // Only NOTIFY can wake an idle relay quickly: proves LISTEN came back after the restart.
        pollIntervalMs: 60_000,
        hooks: { onError: (_e, where) => void errors.push(where) },
      }),
    )
    await Promise.all(relays.map((r) => r.start()))
    await waitFor(() => h.counts.size >= 1_000, '1 000 events before the restart', 30_000)
    await cluster.restart()
    const handledAtRestart = h.counts.size
    expect(handledAtRestart).toBeLessThan(ROWS)
    await waitFor(() => h.counts.size === ROWS, `all ${ROWS} events after the restart`, 60_000)
    expect(errors).toContain('claim')
    expect(await count(setup, 'SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL')).toBe(0)

    await enqueue(setup, 'orders', {
      type: 'order.placed',
      source: 'shop',
      partitionkey: 'late',
      data: { i: ROWS },
    })
    await waitFor(
      () => h.counts.size === ROWS + 1,
      'an event committed after the restart (NOTIFY)',
      10_000,
    )
    await Promise.all(relays.map((r) => r.stop()))
    expect([...h.counts.values()].every((n) => n === 1)).toBe(true)
    expectOrderedOnce(h, ROWS + 1)
    await h.close()
  })
})
