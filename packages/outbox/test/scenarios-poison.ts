import type { Logger, Middleware } from '@switchyard/core'
import { expect, it } from 'vitest'
import { createRelay, enqueue, listParked } from '../src/index.js'
import type { SuiteEnv } from './suite-env.js'
import { count, harness, numbered, waitFor } from './support.js'

/** A publish middleware that fails, retryably, every event whose data has `poison: true`. */
function poison(): Middleware {
  return {
    name: 'poison',
    async publish(c, next) {
      if ((c.event.data as { poison?: boolean }).poison === true) {
        throw new Error('broker refused the event (retryable)')
      }
      await next()
    },
  }
}

/** A logger that keeps what it is given, by level. */
export function recordingLogger(): Logger & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = []
  const at =
    (level: string) =>
    (_fields: Record<string, unknown>, message = '') =>
      void lines.push({ level, message })
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

/** Poison rows, retryable failures in shared batches, a claim connection lost mid-publish. */
export function poisonScenarios(env: SuiteEnv): void {
  it('poison - a key waiting in backoff does not hide the keys and topics behind it (issue 21.8)', async (ctx) => {
    if (env.skip) return ctx.skip(env.skip)
    const { table, h, relay, cleanup } = await env.setup(
      { batchSize: 20, backoff: () => 60_000 },
      ['orders', 'payments'],
      [poison()],
    )
    const p = { source: 's', table }
    await enqueue(
      env.fx.driver,
      'orders',
      { type: 'x', partitionkey: 'P', data: { poison: true } },
      p,
    )
    await enqueue(
      env.fx.driver,
      'orders',
      numbered(100, () => 'P'),
      p,
    )
    await enqueue(
      env.fx.driver,
      'payments',
      numbered(50, (i) => `k${i % 10}`),
      p,
    )
    // Before the fix the first 20 rows (all P) filled every claim: nothing else went out.
    expect(await relay.drain()).toBe(50)
    await waitFor(() => h.received.length === 50, 'the 50 payments')
    expect(new Set(h.topics)).toEqual(new Set(['payments']))
    const pending = `SELECT count(*) AS n FROM ${table} WHERE sent_at IS NULL AND parked_at IS NULL`
    expect(await count(env.fx.driver, pending)).toBe(101)
    await cleanup()
  })

  it('poison - a retryable failure costs only its own row; rows sharing its batch go out once (issue 21.9)', async (ctx) => {
    if (env.skip) return ctx.skip(env.skip)
    const parked: string[][] = []
    const { table, h, relay, cleanup } = await env.setup(
      { maxAttempts: 3, backoff: () => 0, hooks: { onParked: (x) => parked.push(x.ids) } },
      ['orders'],
      [poison()],
    )
    const p = { source: 's', table }
    const healthy = await enqueue(
      env.fx.driver,
      'orders',
      numbered(10, (i) => `k${i % 2}`),
      p,
    )
    const [bad] = await enqueue(
      env.fx.driver,
      'orders',
      { type: 'x', partitionkey: 'P', data: { poison: true } },
      p,
    )
    const behind = await enqueue(
      env.fx.driver,
      'orders',
      numbered(3, () => 'P', 10),
      p,
    )
    const more = await enqueue(
      env.fx.driver,
      'orders',
      numbered(5, () => undefined, 20),
      p,
    )
    expect(await relay.drain()).toBe(18)
    await waitFor(() => h.received.length === 18, '18 events')
    // Only the poison parked, after its own 3 attempts; no healthy row counted one.
    expect(parked).toEqual([[bad!.id]])
    expect((await listParked(env.fx.driver, { table })).map((r) => [r.id, r.attempts])).toEqual([
      [bad!.id, 3],
    ])
    const attempts = `SELECT coalesce(max(attempts), 0) AS n FROM ${table} WHERE id <> '${bad!.id}'`
    expect(await count(env.fx.driver, attempts)).toBe(0)
    for (const e of [...healthy, ...behind, ...more]) expect(h.counts.get(e.id)).toBe(1)
    // The rows of P behind the poison waited for it, then kept their order.
    const ofP = h.received.filter((e) => e.partitionkey === 'P').map((e) => e.id)
    expect(ofP).toEqual(behind.map((e) => e.id))
    expect(relay.stats()).toMatchObject({ published: 18, parked: 1, failed: 2 })
    await cleanup()
  })

  it('claim connection - lost mid-publish to an idle-in-transaction timeout: outcome recorded, nothing repeated (issue 21.10)', async (ctx) => {
    if (env.skip) return ctx.skip(env.skip)
    const driver = await env.fx.idleTimeout(150)
    const { table, cleanup } = await env.setup()
    const h = await harness(['orders', 'payments'])
    const slow: Middleware = {
      async publish(_c, next) {
        await new Promise((resolve) => setTimeout(resolve, 400))
        await next()
      },
    }
    const logger = recordingLogger()
    const relay = createRelay({
      driver,
      bus: h.producer([slow, poison()]),
      table,
      backoff: () => 60_000,
      logger,
    })
    const p = { source: 's', table }
    const sent = await enqueue(
      env.fx.driver,
      'orders',
      numbered(3, () => 'a'),
      p,
    )
    const [bad] = await enqueue(
      env.fx.driver,
      'payments',
      { type: 'x', partitionkey: 'b', data: { poison: true } },
      p,
    )
    // Before the fix the commit failed, drain rejected and every row stayed as it was.
    expect(await relay.drain()).toBe(3)
    expect(await relay.drain()).toBe(0)
    await waitFor(() => h.received.length === 3, '3 events')
    for (const e of sent) expect(h.counts.get(e.id)).toBe(1)
    const marked = `SELECT count(*) AS n FROM ${table} WHERE sent_at IS NOT NULL`
    expect(await count(env.fx.driver, marked)).toBe(3)
    const waiting = `SELECT count(*) AS n FROM ${table}
      WHERE id = '${bad!.id}' AND attempts = 1 AND available_at > now() + interval '30 seconds'`
    expect(await count(env.fx.driver, waiting)).toBe(1)
    expect(relay.stats()).toMatchObject({ published: 3, failed: 1 })
    const lost = logger.lines.filter((l) => l.message.includes('recorded on another connection'))
    // PostgreSQL ends the session; PGlite accepts the setting but has no session to end.
    if (env.fx.driver.name === 'pg') expect(lost.length).toBeGreaterThan(0)
    else expect(lost).toEqual([])
    await relay.stop()
    await h.close()
    await cleanup()
  })
}
