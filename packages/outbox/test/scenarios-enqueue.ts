import { expect, it } from 'vitest'
import { createRelay, enqueue, getEventPublisher, migrate, outboxLag } from '../src/index.js'
import type { SuiteEnv } from './suite-env.js'
import { count, dropOutbox, expectOrderedOnce, numbered, uniqueTable, waitFor } from './support.js'

/** Transactions, enqueue and ordering: what every store must show. */
export function enqueueScenarios(env: SuiteEnv): void {
  it('migrate - is idempotent and safe to run concurrently', async (ctx) => {
    if (env.skip) return ctx.skip(env.skip)
    const table = uniqueTable()
    await Promise.all([1, 2, 3].map(() => migrate(env.fx.driver, { table })))
    await migrate(env.fx.driver, { table })
    expect(await count(env.fx.driver, `SELECT count(*) AS n FROM ${table}`)).toBe(0)
    await dropOutbox(env.fx.driver, table)
  })

  it('enqueue - rollback leaves no business row and publishes nothing', async (ctx) => {
    if (env.skip) return ctx.skip(env.skip)
    const { table, h, relay, cleanup } = await env.setup()
    const attempt = env.fx.driver.transaction(async (tx) => {
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
    expect(await count(env.fx.driver, `SELECT count(*) AS n FROM ${table}_orders`)).toBe(0)
    expect(await count(env.fx.driver, `SELECT count(*) AS n FROM ${table}`)).toBe(0)
    expect(await relay.drain()).toBe(0)
    expect(h.received).toHaveLength(0)
    await cleanup()
  })

  it('enqueue - commit publishes the event once with every attribute intact', async (ctx) => {
    if (env.skip) return ctx.skip(env.skip)
    const { table, h, relay, cleanup } = await env.setup()
    const [stored] = await env.fx.driver.transaction(async (tx) => {
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
    expect(await count(env.fx.driver, `SELECT count(*) AS n FROM ${table}_orders`)).toBe(1)
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
    await enqueue(env.fx.driver, 'orders', blob, { table })
    expect(await relay.drain()).toBe(1)
    await waitFor(() => h.received.length === 2, 'the binary event')
    expect(new Uint8Array(h.received[1]!.data as Uint8Array)).toEqual(binary)
    expect(h.received).toHaveLength(2)
    await cleanup()
  })

  it('publisher - one switch routes the same call through the outbox or straight to the bus', async (ctx) => {
    if (env.skip) return ctx.skip(env.skip)
    const { table, h, bus, relay, cleanup } = await env.setup()
    await env.fx.driver.transaction(async (tx) => {
      const events = getEventPublisher({ bus, session: tx, useOutbox: true, table })
      await events.publishBatch(
        'orders',
        numbered(2, () => 'k'),
      )
    })
    expect(await count(env.fx.driver, `SELECT count(*) AS n FROM ${table}`)).toBe(2)
    expect(h.received).toHaveLength(0)
    await getEventPublisher({ bus, session: env.fx.driver, useOutbox: false }).publish('orders', {
      type: 'direct',
    })
    await waitFor(() => h.received.length === 1, 'the direct event')
    expect(await outboxLag(env.fx.driver, { table })).toBeGreaterThanOrEqual(0)
    expect(await relay.drain()).toBe(2)
    await waitFor(() => h.received.length === 3, 'the outbox events')
    expect(h.received.map((e) => e.source)).toEqual(['relay', 'relay', 'relay'])
    expect(await outboxLag(env.fx.driver, { table })).toBe(0)
    await cleanup()
  })

  it('enqueue - an event id still in the outbox is written once', async (ctx) => {
    if (env.skip) return ctx.skip(env.skip)
    const { table, cleanup } = await env.setup()
    const event = { id: 'fixed-id', type: 'order.placed', source: 'shop' }
    await enqueue(env.fx.driver, 'orders', event, { table })
    await enqueue(env.fx.driver, 'orders', [event, { ...event, id: 'other' }], { table })
    expect(await count(env.fx.driver, `SELECT count(*) AS n FROM ${table}`)).toBe(2)
    await cleanup()
  })

  it('relay - keeps per-key order across topics and many small batches', async (ctx) => {
    if (env.skip) return ctx.skip(env.skip)
    const { table, h, relay, cleanup } = await env.setup({ batchSize: 37, lanesPerClaim: 3 }, [
      'orders',
      'refunds',
    ])
    for (let t = 0; t < 4; t++) {
      await env.fx.driver.transaction(async (tx) => {
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
    if (env.skip) return ctx.skip(env.skip)
    const { table, h, relay, cleanup } = await env.setup({ batchSize: 50, lanesPerClaim: 4 })
    const second = createRelay({
      driver: env.fx.another(),
      bus: h.producer(),
      table,
      batchSize: 50,
      lanesPerClaim: 4,
    })
    await enqueue(
      env.fx.driver,
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
}
