import { type EventEnvelope, type Middleware, SchemaValidationError } from '@switchyard/core'
import { afterEach, expect, it, vi } from 'vitest'
import {
  createRelay,
  deleteParked,
  enqueue,
  listParked,
  outboxLag,
  outboxStatus,
  pruneSent,
} from '../src/index.js'
import { recordingLogger } from './scenarios-poison.js'
import type { SuiteEnv } from './suite-env.js'
import { count, harness, numbered, waitFor } from './support.js'

const refuse4: Middleware = {
  name: 'refuse-4',
  async publish(c, next) {
    if ((c.event.data as { i?: number }).i === 4) {
      throw new SchemaValidationError([{ path: 'data.i', message: 'must not be 4' }])
    }
    await next()
  },
}

/** Lag, status, pruning and deleting parked rows; what the relay logs when no hook listens. */
export function healthScenarios(env: SuiteEnv): void {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('health - lag counts parked rows, status reports them apart, deleteParked and pruneSent clear (issue 21.11)', async (ctx) => {
    if (env.skip) return ctx.skip(env.skip)
    const { table, h, relay, cleanup } = await env.setup({}, ['orders'], [refuse4])
    const db = env.fx.driver
    const stored = await enqueue(
      db,
      'orders',
      numbered(6, () => 'k'),
      { source: 's', table },
    )
    expect(await relay.drain()).toBe(5)
    await waitFor(() => h.received.length === 5, '5 events')
    // Before the fix the lag was 0 here, and a lag-based health check went green.
    expect(await outboxLag(db, { table })).toBeGreaterThan(0)
    expect(await relay.lag()).toBeGreaterThan(0)
    expect(await outboxLag(db, { table, includeParked: false })).toBe(0)
    const status = await outboxStatus(db, { table })
    expect(status).toMatchObject({ pending: 0, pendingLagMs: 0, parked: 1 })
    expect(status.parkedLagMs).toBeGreaterThan(0)
    expect((await listParked(db, { table })).map((r) => r.id)).toEqual([stored[4]!.id])
    expect(await deleteParked(db, { table, ids: ['no-such-id'] })).toBe(0)
    expect(await deleteParked(db, { table, olderThanMs: 3_600_000 })).toBe(0)
    expect(await deleteParked(db, { table, ids: [stored[4]!.id] })).toBe(1)
    expect(await listParked(db, { table })).toEqual([])
    expect(await outboxLag(db, { table })).toBe(0)
    expect(await outboxStatus(db, { table })).toMatchObject({ pending: 0, parked: 0 })
    // Sent rows are kept 24 h by default; pruneSent removes them whatever the retention.
    const sent = `SELECT count(*) AS n FROM ${table} WHERE sent_at IS NOT NULL`
    expect(await count(db, sent)).toBe(5)
    expect(await pruneSent(db, { table, olderThanMs: 3_600_000 })).toBe(0)
    expect(await pruneSent(db, { table })).toBe(5)
    expect(await count(db, `SELECT count(*) AS n FROM ${table}`)).toBe(0)
    await expect(pruneSent(db, { table, olderThanMs: -1 })).rejects.toThrow(/olderThanMs/)
    await cleanup()
  })

  it('logger - without hooks a parked row is logged at warn, through the bus logger by default; nothing on the console (issue 21.6)', async (ctx) => {
    if (env.skip) return ctx.skip(env.skip)
    const console_ = ['log', 'info', 'warn', 'error', 'debug'].map((m) =>
      vi.spyOn(console, m as 'log').mockImplementation(() => undefined),
    )
    const logger = recordingLogger()
    const { table, relay, cleanup } = await env.setup({ logger }, ['orders'], [refuse4])
    await enqueue(
      env.fx.driver,
      'orders',
      numbered(6, () => 'k'),
      { source: 's', table },
    )
    expect(await relay.drain()).toBe(5)
    expect(logger.lines).toEqual([
      { level: 'warn', message: expect.stringContaining('rows parked') },
    ])
    // Without a logger of its own the relay logs where its bus logs; a target with no logger
    // leaves it silent, and the console untouched either way.
    const quiet = await env.setup({}, ['orders'], [refuse4])
    const busLogger = recordingLogger()
    const through = (logger?: typeof busLogger) => ({
      publishBatch: (t: string, e: EventEnvelope[]) => quiet.bus.publishBatch(t, e),
      ...(logger ? { logger } : {}),
    })
    const p = { source: 's', table: quiet.table }
    await enqueue(
      env.fx.driver,
      'orders',
      numbered(6, () => 'k'),
      p,
    )
    const inherits = createRelay({
      driver: env.fx.driver,
      bus: through(busLogger),
      table: quiet.table,
    })
    expect(await inherits.drain()).toBe(5)
    expect(busLogger.lines.map((l) => l.level)).toEqual(['warn'])
    await enqueue(
      env.fx.driver,
      'orders',
      numbered(6, () => 'k', 10),
      p,
    )
    const silent = createRelay({ driver: env.fx.driver, bus: through(), table: quiet.table })
    expect(await silent.drain()).toBe(6)
    for (const spy of console_) expect(spy).not.toHaveBeenCalled()
    await quiet.cleanup()
    await cleanup()
  })

  it('logger - a relay that cannot reach its database logs an error, and nothing on the console (issue 21.6)', async (ctx) => {
    if (env.skip) return ctx.skip(env.skip)
    const console_ = ['log', 'info', 'warn', 'error', 'debug'].map((m) =>
      vi.spyOn(console, m as 'log').mockImplementation(() => undefined),
    )
    const logger = recordingLogger()
    const h = await harness(['orders'])
    const { driver, cut } = await env.fx.unreachable()
    const relay = createRelay({ driver, bus: h.producer(), pollIntervalMs: 50, logger })
    await relay.start()
    await cut()
    await waitFor(
      () => logger.lines.some((l) => l.level === 'error' && l.message.includes('cannot reach')),
      'an error line for the unreachable database',
      10_000,
    )
    await relay.stop()
    expect(logger.lines.every((l) => l.level !== 'debug')).toBe(true)
    for (const spy of console_) expect(spy).not.toHaveBeenCalled()
    await h.close()
  })
}
