import { ConfigurationError } from '@switchyard/core'
import { describe, expect, it } from 'vitest'
import type { Queryable } from './driver.js'
import { enqueue } from './enqueue.js'
import { createOutboxPublisher, getEventPublisher, outboxFromEnv } from './publisher.js'

/** Records statements instead of running them. */
function recorder() {
  const calls: { text: string; params: unknown[] }[] = []
  const db: Queryable = {
    async query(text, params = []) {
      calls.push({ text, params })
      return { rows: [] }
    },
  }
  return { db, calls }
}

describe('publisher', () => {
  it('enqueue - writes one multi-row insert with encoded headers and body', async () => {
    const { db, calls } = recorder()
    const events = await enqueue(
      db,
      'orders',
      [
        { type: 'a', data: { n: 1 } },
        { type: 'b', partitionkey: 'k' },
      ],
      {
        source: 'shop',
      },
    )
    expect(calls).toHaveLength(1)
    expect(calls[0]!.text).toContain('INSERT INTO "outbox"')
    expect(calls[0]!.text).toContain('ON CONFLICT (id) DO NOTHING')
    const [id, topic, key, headers] = calls[0]!.params
    expect([id, topic, key]).toEqual([events[0]!.id, 'orders', null])
    expect(JSON.parse(headers as string)).toMatchObject({
      ce_type: 'a',
      ce_source: 'shop',
      'content-type': 'application/json',
    })
    expect(calls[0]!.params[7]).toBe('k')
  })

  it('enqueue - splits very large batches under the parameter limit', async () => {
    const { db, calls } = recorder()
    await enqueue(
      db,
      'orders',
      Array.from({ length: 12_000 }, () => ({ type: 'a' })),
      { source: 's' },
    )
    expect(calls.map((c) => c.params.length)).toEqual([50_000, 10_000])
  })

  it('enqueue - rejects a bad topic or event before writing anything', async () => {
    const { db, calls } = recorder()
    await expect(enqueue(db, 'bad topic', { type: 'a', source: 's' })).rejects.toThrow(
      ConfigurationError,
    )
    await expect(enqueue(db, 'orders', { type: 'a' })).rejects.toThrow(/source/)
    await expect(enqueue({} as Queryable, 'orders', { type: 'a', source: 's' })).rejects.toThrow(
      ConfigurationError,
    )
    expect(calls).toHaveLength(0)
  })

  it('publisher - has the bus shape and writes to the session', async () => {
    const { db, calls } = recorder()
    const events = createOutboxPublisher(db, { source: 'hr', table: 'app.outbox' })
    const one = await events.publish('employees', { type: 'employee.created' })
    const many = await events.publishBatch('employees', [{ type: 'x' }, { type: 'y' }])
    expect(one.source).toBe('hr')
    expect(many).toHaveLength(2)
    expect(calls.map((c) => c.text.includes('"app"."outbox"'))).toEqual([true, true])
  })

  it('publisher - getEventPublisher picks the outbox only with a session and the switch on', async () => {
    const { db } = recorder()
    const bus = { source: 'hr', publish: async () => ({}) as never, publishBatch: async () => [] }
    expect(getEventPublisher({ bus, session: db, useOutbox: false })).toBe(bus)
    expect(getEventPublisher({ bus, useOutbox: true })).toBe(bus)
    const outbox = getEventPublisher({ bus, session: db, useOutbox: true })
    expect(outbox).not.toBe(bus)
    expect((await outbox.publish('t', { type: 'x' })).source).toBe('hr')
  })

  it('publisher - outboxFromEnv reads USE_OUTBOX_PATTERN and the database URL', () => {
    expect(outboxFromEnv({ USE_OUTBOX_PATTERN: 'true', DATABASE_URL: 'postgres://x' })).toEqual({
      enabled: true,
      connectionString: 'postgres://x',
    })
    expect(outboxFromEnv({ USE_OUTBOX_PATTERN: 'off' }).enabled).toBe(false)
    expect(outboxFromEnv({}).enabled).toBe(false)
    // One boolean parser for every fromEnv: an unknown value is an error naming the variable.
    expect(() => outboxFromEnv({ USE_OUTBOX_PATTERN: 'maybe' })).toThrow(ConfigurationError)
    expect(() => outboxFromEnv({ USE_OUTBOX_PATTERN: 'maybe' })).toThrow(/USE_OUTBOX_PATTERN/)
    expect(
      outboxFromEnv({ SWITCHYARD_POSTGRES_URL: 'a', DATABASE_URL: 'b' }).connectionString,
    ).toBe('a')
  })
})
