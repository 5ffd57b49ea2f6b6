import { type Middleware, SchemaValidationError } from '@switchyard/core'
import { expect, it } from 'vitest'
import { createRelay, enqueue, listParked, requeueParked } from '../src/index.js'
import type { SuiteEnv } from './suite-env.js'
import { count, expectOrderedOnce, harness, numbered, waitFor } from './support.js'

/** Failures, parking, retention, wake-ups and stopping: what every relay must show. */
export function relayScenarios(env: SuiteEnv): void {
  it('relay - while the bus is down rows stay and count attempts, then go out once', async (ctx) => {
    if (env.skip) return ctx.skip(env.skip)
    const failed: number[] = []
    const hooks = { onFailed: (info: { count: number }) => failed.push(info.count) }
    const { table, h, bus, relay, cleanup } = await env.setup({ backoff: () => 30, hooks })
    await enqueue(
      env.fx.driver,
      'orders',
      numbered(30, (i) => `k${i % 3}`),
      { source: 's', table },
    )
    bus.transport.faults.disconnect()
    await relay.drain()
    await relay.drain()
    const pending = `SELECT count(*) AS n FROM ${table} WHERE sent_at IS NULL AND parked_at IS NULL`
    expect(await count(env.fx.driver, pending)).toBe(30)
    // No row is to blame for an outage: the first row of each key counts the attempts, the rows
    // behind it wait untouched, so an outage parks at most one row per key.
    expect(
      await count(env.fx.driver, `SELECT count(*) AS n FROM ${table} WHERE attempts > 0`),
    ).toBe(3)
    expect(
      await count(
        env.fx.driver,
        `SELECT count(*) AS n FROM ${table} WHERE attempts > 0 AND seq IN (
           SELECT min(seq) FROM ${table} GROUP BY partition_key)`,
      ),
    ).toBe(3)
    expect(failed.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(3)
    expect(relay.stats().failed).toBeGreaterThanOrEqual(3)
    expect(await relay.lag()).toBeGreaterThan(0)
    bus.transport.faults.reconnect()
    await relay.start()
    await waitFor(async () => (await count(env.fx.driver, pending)) === 0, 'the outbox to drain')
    await waitFor(() => h.received.length === 30, '30 events')
    expectOrderedOnce(h, 30)
    expect(await relay.lag()).toBe(0)
    await cleanup()
  })

  it('relay - a key waiting in backoff holds back its later rows while other keys flow', async (ctx) => {
    if (env.skip) return ctx.skip(env.skip)
    // The first event fails until the test lets it through: the relay splits the batch and
    // retries at once, so a fault that only lasts a call or two would be published anyway.
    let refuse = true
    const first: Middleware = {
      async publish(c, next) {
        if (refuse && (c.event.data as { i: number }).i === 0) throw new Error('not now')
        await next()
      },
    }
    const { table, h, relay, cleanup } = await env.setup(
      { backoff: () => 400 },
      ['orders'],
      [first],
    )
    await enqueue(
      env.fx.driver,
      'orders',
      numbered(3, () => 'slow'),
      { source: 's', table },
    )
    expect(await relay.drain()).toBe(0)
    refuse = false
    // Written after the failure, so not yet attempted and due now; still they must wait.
    await enqueue(
      env.fx.driver,
      'orders',
      numbered(3, () => 'slow', 3),
      { source: 's', table },
    )
    await enqueue(
      env.fx.driver,
      'orders',
      numbered(3, () => 'fast', 6),
      { source: 's', table },
    )
    expect(await relay.drain()).toBe(3)
    await waitFor(() => h.received.length === 3, 'the other key')
    expect(h.received.map((e) => e.partitionkey)).toEqual(['fast', 'fast', 'fast'])
    await waitFor(async () => (await relay.drain()) === 6, 'the held key after its backoff', 10_000)
    await waitFor(() => h.received.length === 9, '9 events')
    expectOrderedOnce(h, 9)
    await cleanup()
  })

  it('relay - a row the bus refuses for good is parked alone, never dropped', async (ctx) => {
    if (env.skip) return ctx.skip(env.skip)
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
    const { table, h, relay, cleanup } = await env.setup(
      { hooks: { onParked: (p) => parked.push(p.ids) } },
      ['orders'],
      [validate],
    )
    const stored = await enqueue(
      env.fx.driver,
      'orders',
      numbered(10, () => 'k'),
      { source: 's', table },
    )
    expect(await relay.drain()).toBe(9)
    await waitFor(() => h.received.length === 9, '9 events')
    expect(parked).toEqual([[stored[4]!.id]])
    const list = await listParked(env.fx.driver, { table })
    expect(list.map((p) => p.id)).toEqual([stored[4]!.id])
    expect(list[0]!.lastError).toContain('SchemaValidationError')
    expect(list[0]!.attempts).toBe(1)
    refuse = false
    expect(await requeueParked(env.fx.driver, { table })).toBe(1)
    expect(await relay.drain()).toBe(1)
    await waitFor(() => h.received.length === 10, 'the requeued event')
    expect(h.received[9]!.id).toBe(stored[4]!.id)
    await cleanup()
  })

  it('relay - parks a row after maxAttempts with its last error', async (ctx) => {
    if (env.skip) return ctx.skip(env.skip)
    const { table, bus, relay, cleanup } = await env.setup({ maxAttempts: 3, backoff: () => 0 })
    await enqueue(env.fx.driver, 'orders', { type: 'x', source: 's' }, { table })
    bus.transport.faults.failNextPublishes(100)
    await relay.drain()
    const [row] = await listParked(env.fx.driver, { table })
    expect(row?.attempts).toBe(3)
    expect(row?.lastError).toContain('Injected publish failure')
    expect(relay.stats()).toMatchObject({ parked: 1, failed: 2, published: 0 })
    expect(await count(env.fx.driver, `SELECT count(*) AS n FROM ${table}`)).toBe(1)
    await relay.cleanup()
    expect(await count(env.fx.driver, `SELECT count(*) AS n FROM ${table}`)).toBe(1)
    await cleanup()
  })

  it('relay - deletes sent rows after the retention period, or at once with 0', async (ctx) => {
    if (env.skip) return ctx.skip(env.skip)
    const { table, relay, cleanup } = await env.setup({ retentionMs: 1 })
    await enqueue(
      env.fx.driver,
      'orders',
      numbered(5, () => undefined),
      { source: 's', table },
    )
    await relay.drain()
    expect(
      await count(env.fx.driver, `SELECT count(*) AS n FROM ${table} WHERE sent_at IS NOT NULL`),
    ).toBe(5)
    await waitFor(async () => (await relay.cleanup()) > 0 || relay.stats().cleaned > 0, 'cleanup')
    expect(await count(env.fx.driver, `SELECT count(*) AS n FROM ${table}`)).toBe(0)
    const h2 = await harness(['orders'])
    const deleting = createRelay({
      driver: env.fx.driver,
      bus: h2.producer(),
      table,
      retentionMs: 0,
    })
    await enqueue(
      env.fx.driver,
      'orders',
      numbered(5, () => undefined),
      { source: 's', table },
    )
    expect(await deleting.drain()).toBe(5)
    expect(await count(env.fx.driver, `SELECT count(*) AS n FROM ${table}`)).toBe(0)
    await h2.close()
    await cleanup()
  })

  it('relay - wakes on NOTIFY without waiting for the poll interval', async (ctx) => {
    if (env.skip) return ctx.skip(env.skip)
    const { table, h, relay, cleanup } = await env.setup({ pollIntervalMs: 600_000 })
    await relay.start()
    await relay.drain()
    const started = Date.now()
    await enqueue(env.fx.driver, 'orders', { type: 'ping', source: 's' }, { table })
    await waitFor(() => h.received.length === 1, 'the notified event', 5_000)
    expect(Date.now() - started).toBeLessThan(5_000)
    await cleanup()
  })

  it('relay - stop finishes the batch in hand', async (ctx) => {
    if (env.skip) return ctx.skip(env.skip)
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
    const { table, h, relay, cleanup } = await env.setup({ hooks }, ['orders'], [slow])
    await enqueue(
      env.fx.driver,
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
      await count(env.fx.driver, `SELECT count(*) AS n FROM ${table} WHERE sent_at IS NOT NULL`),
    ).toBe(10)
    await waitFor(() => h.received.length === 10, '10 events')
    expect(claimed).toEqual([10])
    expect(published).toEqual([10])
    await cleanup()
  })
}
