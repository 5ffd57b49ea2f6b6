import {
  binaryCodec,
  ClosedError,
  ConnectionError,
  createEvent,
  type EventEnvelope,
  PublishError,
  SchemaValidationError,
} from '@switchyard/core'
import { describe, expect, it } from 'vitest'
import type { OutboxRow } from './driver.js'
import { type PublishSettings, publishRows } from './publish.js'

const codec = binaryCodec()
let seq = 0
function row(topic: string, key: string | null, i: number, attempts = 0): OutboxRow {
  const event = createEvent({
    type: 't',
    source: 's',
    data: { i },
    ...(key ? { partitionkey: key } : {}),
  })
  const { headers, body } = codec.encode(event)
  return {
    seq: String(++seq),
    id: event.id,
    topic,
    partition_key: key,
    headers,
    payload: body,
    attempts,
  }
}

/** A target that records batches and fails as `fail` decides. */
function target(fail: (topic: string, events: EventEnvelope[]) => Error | undefined) {
  const batches: { topic: string; i: number[] }[] = []
  const settings: PublishSettings = {
    codec,
    backoff: (attempt) => attempt * 100,
    maxAttempts: 3,
    publishTimeoutMs: 1_000,
    bus: {
      async publishBatch(topic, events) {
        const error = fail(topic, events)
        if (error) throw error
        batches.push({ topic, i: events.map((e) => (e.data as { i: number }).i) })
      },
    },
  }
  return { settings, batches }
}

describe('publishRows', () => {
  it('publish - one batch per topic, in order, all sent', async () => {
    const { settings, batches } = target(() => undefined)
    const rows = [row('a', 'k', 1), row('b', null, 2), row('a', 'k', 3)]
    const out = await publishRows(rows, settings)
    expect(out.sent.sort()).toEqual(rows.map((r) => r.seq).sort())
    expect(batches).toEqual(
      expect.arrayContaining([
        { topic: 'a', i: [1, 3] },
        { topic: 'b', i: [2] },
      ]),
    )
    expect(out.failures).toEqual([])
  })

  it('publish - a retryable failure keeps the topic batch for a retry after the backoff', async () => {
    const { settings } = target((topic) =>
      topic === 'a' ? new PublishError('down', { topic }) : undefined,
    )
    const rows = [row('a', 'k', 1, 1), row('b', null, 2)]
    const out = await publishRows(rows, settings)
    expect(out.sent).toEqual([rows[1]!.seq])
    expect(out.failures).toEqual([
      { seq: rows[0]!.seq, delayMs: 200, park: false, error: 'PublishError: down', attempts: 1 },
    ])
    expect(out.failed).toMatchObject([{ topic: 'a', count: 1 }])
  })

  it('publish - a closed bus is retried, not parked', async () => {
    const { settings } = target(() => new ClosedError())
    const out = await publishRows([row('a', null, 1)], settings)
    expect(out.failures[0]!.park).toBe(false)
  })

  it('publish - the last allowed attempt parks the row', async () => {
    const { settings } = target((topic) => new PublishError('down', { topic }))
    const rows = [row('a', null, 1, 2)]
    const out = await publishRows(rows, settings)
    expect(out.failures[0]).toMatchObject({ park: true })
    expect(out.parked).toEqual([{ ids: [rows[0]!.id], error: expect.any(PublishError) }])
  })

  it('publish - a batch refused for good is retried row by row so only the bad row parks', async () => {
    const refuse = (events: EventEnvelope[]) =>
      events.some((e) => (e.data as { i: number }).i === 2)
    const { settings, batches } = target((_t, events) =>
      refuse(events) ? new SchemaValidationError([{ path: 'data.i', message: 'no 2' }]) : undefined,
    )
    const rows = [row('a', 'k', 1), row('a', 'k', 2), row('a', 'k', 3)]
    const out = await publishRows(rows, settings)
    expect(batches).toEqual([
      { topic: 'a', i: [1] },
      { topic: 'a', i: [3] },
    ])
    expect(out.parked.map((p) => p.ids)).toEqual([[rows[1]!.id]])
  })

  it('publish - row by row, a retryable failure holds back the rest of its key only', async () => {
    let calls = 0
    const { settings, batches } = target((topic, events) => {
      calls++
      if (calls === 1) return new SchemaValidationError([{ path: 'x', message: 'batch refused' }])
      return (events[0]!.data as { i: number }).i === 1
        ? new PublishError('flaky', { topic })
        : undefined
    })
    const rows = [row('a', 'k', 1), row('a', 'j', 2), row('a', 'k', 3)]
    const out = await publishRows(rows, settings)
    expect(batches).toEqual([{ topic: 'a', i: [2] }])
    expect(out.sent).toEqual([rows[1]!.seq])
    expect(out.failures.map((f) => f.seq)).toEqual([rows[0]!.seq])
  })

  it('publish - a row that cannot be decoded is parked at once', async () => {
    const { settings } = target(() => undefined)
    const bad: OutboxRow = { ...row('a', null, 1), headers: { 'content-type': 'application/json' } }
    const out = await publishRows([bad], settings)
    expect(out.failures).toMatchObject([{ seq: bad.seq, park: true }])
    expect(out.parked[0]!.error.name).toBe('DecodeError')
  })

  it('publish - a publish that hangs past the timeout counts as failed', async () => {
    const settings: PublishSettings = {
      ...target(() => undefined).settings,
      publishTimeoutMs: 20,
      bus: { publishBatch: () => new Promise(() => undefined) },
    }
    const out = await publishRows([row('a', null, 1)], settings)
    expect(out.failures).toMatchObject([
      { park: false, error: expect.stringContaining('TimeoutError') },
    ])
  })

  it('publish - a retryable failure in a shared batch costs only its row; other keys go out', async () => {
    const poisoned = (events: EventEnvelope[]) =>
      events.some((e) => (e.data as { i: number }).i === 1)
    const tries = new Map<number, number>()
    const { settings, batches } = target((topic, events) => {
      for (const e of events) {
        const i = (e.data as { i: number }).i
        tries.set(i, (tries.get(i) ?? 0) + 1)
      }
      return poisoned(events) ? new PublishError('too large', { topic }) : undefined
    })
    const rows = [
      row('a', 'p', 1),
      row('a', 'k', 2),
      row('a', 'p', 3),
      row('a', null, 4),
      row('a', 'j', 5),
      row('a', 'k', 6),
    ]
    const out = await publishRows(rows, settings)
    expect(out.failures).toEqual([expect.objectContaining({ seq: rows[0]!.seq, park: false })])
    expect(out.held).toBe(1)
    const sent = [2, 4, 5, 6].map((i) => rows[i - 1]!.seq)
    expect(out.sent.sort()).toEqual(sent.sort())
    // Order per key holds: the published batches, flattened, keep k's 2 before 6.
    const flat = batches.flatMap((b) => b.i)
    expect(flat.indexOf(2)).toBeLessThan(flat.indexOf(6))
    expect(flat).not.toContain(3)
    // A broker may have stored part of a refused batch: no healthy row is sent more than twice.
    for (const i of [2, 3, 4, 5, 6]) expect(tries.get(i), `row ${i}`).toBeLessThanOrEqual(2)
  })

  it('publish - when the bus is out, the first row of each key counts an attempt and no split is tried', async () => {
    let calls = 0
    const { settings } = target(() => {
      calls++
      return new ConnectionError('no broker')
    })
    const rows = [row('a', 'k', 1), row('a', 'k', 2), row('a', 'j', 3), row('a', null, 4)]
    const out = await publishRows(rows, settings)
    expect(calls).toBe(1)
    expect(out.failures.map((f) => f.seq)).toEqual([rows[0]!.seq, rows[2]!.seq, rows[3]!.seq])
    expect(out.held).toBe(1)
  })
})
