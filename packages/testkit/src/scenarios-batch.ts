import { ConfigurationError, constant, type EventEnvelope, outcome } from '@switchyard/core'
import { expect, it } from 'vitest'
import type { Harness } from './harness.js'

type Row = { i: number; key?: string; seq?: number }

/** Batch consumption (`subscribe(..., { batch })`): sizes, per-event outcomes, per-key order. */
export function batchScenarios(h: Harness): void {
  it('batch - batches of at most maxSize with per-event outcomes: retried events come back, one is dead-lettered with its reason, one dropped, the rest handled once', async () => {
    const topic = await h.topic('batch-outcomes')
    const entries = await h.deadLetters(topic)
    const bus = await h.bus()
    const sizes: number[] = []
    const handled: number[] = []
    const retried: Array<[number, number]> = []
    await bus.subscribe<Row>(
      topic,
      (events, batch) => {
        sizes.push(events.length)
        return events.map((event, n) => {
          const { i } = event.data!
          const attempt = batch.contexts[n]!.attempt
          if (i % 10 === 3 && attempt === 1) return outcome.retry()
          if (i === 7) return outcome.deadLetter('row 7 is malformed')
          if (i === 9) return outcome.drop('row 9 is not ours')
          if (i % 10 === 3) retried.push([i, attempt])
          handled.push(i)
          return undefined
        })
      },
      {
        group: 'batch',
        batch: { maxSize: 10, maxWaitMs: 50 },
        retry: { maxAttempts: 3, backoff: constant(10) },
      },
    )
    await bus.publishBatch(
      topic,
      Array.from({ length: 60 }, (_, i) => ({ type: 'conformance.row', data: { i } })),
    )
    await h.until(
      () => handled.length >= 58 && entries.length >= 1,
      '58 handled rows and one dead letter',
      () => `${handled.length} handled, ${entries.length} dead-lettered, batches ${sizes}`,
    )
    await h.settle(() => handled.length + entries.length)
    const expected = Array.from({ length: 60 }, (_, i) => i).filter((i) => i !== 7 && i !== 9)
    expect(handled.sort((a, b) => a - b)).toEqual(expected)
    expect(retried.sort((a, b) => a[0] - b[0])).toEqual([3, 13, 23, 33, 43, 53].map((i) => [i, 2]))
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10)
    expect(Math.max(...sizes)).toBeGreaterThan(1)
    // 66 deliveries (6 retried): batches, not one call per event as the dispatcher frees slots.
    expect(sizes.length).toBeLessThan(30)
    expect(entries).toHaveLength(1)
    expect(entries[0]!.event?.data).toEqual({ i: 7 })
    expect(entries[0]!.reason).toBe('row 7 is malformed')
    expect(entries[0]!.group).toBe('batch')
  })

  it('batch - a handler that throws fails its whole batch: each event is retried per the policy and then handled', async () => {
    const topic = await h.topic('batch-throw')
    const bus = await h.bus()
    const seen = new Map<number, number[]>()
    let thrown = false
    await bus.subscribe<Row>(
      topic,
      (events, batch) => {
        events.forEach((e, n) => {
          seen.set(e.data!.i, [...(seen.get(e.data!.i) ?? []), batch.contexts[n]!.attempt])
        })
        if (!thrown) {
          thrown = true
          throw new Error('bulk insert failed')
        }
      },
      { group: 'batch-throw', batch: { maxSize: 5 }, retry: { backoff: constant(10) } },
    )
    await bus.publishBatch(
      topic,
      Array.from({ length: 5 }, (_, i) => ({ type: 'conformance.row', data: { i } })),
    )
    const done = () => [...seen.values()].filter((a) => a.length > 0).length
    await h.until(
      () => done() >= 5 && [...seen.values()].some((a) => a.includes(2)),
      'the failed batch retried',
    )
    await h.settle(() => [...seen.values()].flat().length)
    const attempts = [...seen.values()]
    // The events of the failed batch came back once, on attempt 2; the others never failed.
    const failedFirst = attempts.filter((a) => a[0] === 1 && a[1] === 2)
    expect(failedFirst.length).toBeGreaterThanOrEqual(1)
    for (const a of attempts)
      expect(a.length === 1 ? a : a.slice(0, 2)).toEqual(a.length === 1 ? [1] : [1, 2])
    expect(seen.size).toBe(5)
  })

  const unordered = !h.options.features.orderedPerKey
  it.skipIf(unordered)(
    `batch - per-key order: a batch holds one event per key, and a retried event is handled before the next of its key${unordered ? ' (skipped: the transport does not order per key)' : ''}`,
    async () => {
      const topic = await h.topic('batch-order')
      const bus = await h.bus()
      const order = new Map<string, number[]>()
      let sameKeyInBatch = 0
      await bus.subscribe<Row>(
        topic,
        (events: EventEnvelope<Row>[], batch) => {
          const keys = events.map((e) => e.data!.key)
          if (new Set(keys).size !== keys.length) sameKeyInBatch++
          return events.map((e, n) => {
            const { key = '', seq = 0 } = e.data!
            if (key === 'k1' && seq === 2 && batch.contexts[n]!.attempt === 1) {
              return outcome.retry({ delayMs: 30 })
            }
            order.set(key, [...(order.get(key) ?? []), seq])
            return undefined
          })
        },
        { group: 'batch-order', batch: { maxSize: 8, maxWaitMs: 20 }, concurrency: 2 },
      )
      const events = []
      for (let seq = 0; seq < 10; seq++) {
        for (const key of ['k0', 'k1', 'k2']) {
          events.push({ type: 'conformance.row', partitionkey: key, data: { i: seq, key, seq } })
        }
      }
      await bus.publishBatch(topic, events)
      const count = () => [...order.values()].flat().length
      await h.until(
        () => count() >= 30,
        '30 ordered events',
        () => `${count()} handled`,
      )
      await h.settle(count)
      const inOrder = Array.from({ length: 10 }, (_, i) => i)
      expect(Object.fromEntries(order)).toEqual({ k0: inOrder, k1: inOrder, k2: inOrder })
      expect(sameKeyInBatch).toBe(0)
    },
  )
}

/** Delivery modes that need no fault hook: at-most-once retries nothing; exactly-once where offered. */
export function deliveryModeScenarios(h: Harness): void {
  it('delivery - at-most-once: a failing handler is tried once and its event dead-lettered with the reason; exactly-once is refused unless the transport commits publishes and position together', async () => {
    const topic = await h.topic('amo-fail')
    const bus = await h.bus()
    const entries = await h.deadLetters(topic)
    const attempts: number[] = []
    const good: number[] = []
    await bus.subscribe<Row>(
      topic,
      (event, ctx) => {
        if (event.data!.i === 0) {
          attempts.push(ctx.attempt)
          throw new Error('cannot handle row 0')
        }
        good.push(event.data!.i)
      },
      { group: 'amo', delivery: 'at-most-once', retry: { maxAttempts: 5 } },
    )
    await bus.publishBatch(
      topic,
      Array.from({ length: 5 }, (_, i) => ({ type: 'conformance.row', data: { i } })),
    )
    await h.until(() => entries.length >= 1 && good.length >= 4, 'one dead letter, 4 handled')
    await h.settle(() => attempts.length + good.length + entries.length)
    expect(attempts).toEqual([1])
    expect(good.sort()).toEqual([1, 2, 3, 4])
    expect(entries[0]!.error).toMatchObject({ message: 'cannot handle row 0' })
    if (h.options.features.exactlyOnce === true) return
    await expect(
      bus.subscribe(topic, () => undefined, { group: 'eos', delivery: 'exactly-once' }),
    ).rejects.toThrow(ConfigurationError)
    await expect(
      bus.subscribe(topic, () => undefined, { group: 'eos', delivery: 'exactly-once' }),
    ).rejects.toThrow(/dedup\(\)/)
  })

  // Only where the transport offers it; the test above checks the refusal everywhere else.
  if (h.options.features.exactlyOnce !== true) return
  it("delivery - exactly-once: a handler's publishes are stored once with its event's position, a failed attempt's are discarded, and a dead letter goes in the same commit", async () => {
    const topic = await h.topic('eos-in')
    const out = await h.topic('eos-out')
    const bus = await h.bus()
    const entries = await h.deadLetters(topic)
    const results: number[] = []
    await bus.subscribe<Row>(out, (event) => void results.push(event.data!.i), { group: 'reader' })
    await bus.subscribe<Row>(
      topic,
      async (event, ctx) => {
        const { i } = event.data!
        await ctx.publish(out, { type: 'conformance.result', data: { i } })
        if (i === 4) throw new Error('row 4 always fails')
        if (i % 3 === 0 && ctx.attempt === 1) throw new Error('fails once after publishing')
      },
      { group: 'eos', delivery: 'exactly-once', retry: { maxAttempts: 2, backoff: () => 0 } },
    )
    await bus.publishBatch(
      topic,
      Array.from({ length: 10 }, (_, i) => ({ type: 'conformance.row', data: { i } })),
    )
    await h.until(() => results.length >= 9 && entries.length >= 1, '9 results, 1 dead letter')
    await h.settle(() => results.length + entries.length)
    expect(results.sort()).toEqual([0, 1, 2, 3, 5, 6, 7, 8, 9])
    expect(entries).toHaveLength(1)
    expect(entries[0]!.error).toMatchObject({ message: 'row 4 always fails' })
  })
}
