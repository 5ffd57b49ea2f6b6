import { randomUUID } from 'node:crypto'
import { createEventBus, type EventBus } from '@switchyard/core'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { kafkaTransport } from '../src/index.js'
import { BROKERS, createTopics, FAST, probe } from './helpers.js'

// An event a member abandons (its handler still running when the member leaves) keeps its retry
// budget: the next delivery is the next attempt, whichever process gets it. Kafka keeps no
// delivery count, so the adapter counts in the offset commit's metadata.
const skip = await serviceOrSkip('Kafka', () => probe())
const buses: EventBus[] = []

function bus(hooks: Parameters<typeof createEventBus>[0]['hooks'] = {}): EventBus {
  const created = createEventBus({
    source: 'attempts-test',
    transport: kafkaTransport({ brokers: BROKERS, ...FAST }),
    hooks,
    closeTimeoutMs: 200,
  })
  buses.push(created)
  return created
}

afterEach(async () => {
  await Promise.allSettled(buses.splice(0).map((b) => b.close({ timeoutMs: 100 })))
})

describe.skipIf(skip !== undefined)('kafka attempts', () => {
  it('attempts - an event whose handler hangs counts each abandoned delivery and is dead-lettered at maxAttempts', async () => {
    const topic = `sy.attempts.${randomUUID().slice(0, 8)}`
    await createTopics([topic, `${topic}.dlq`], 1)
    const group = { group: 'hangs', startAt: 'earliest' as const, retry: { maxAttempts: 3 } }
    const seen: number[] = []
    const dead: Array<{ attempts: number; reason: string }> = []
    // Hangs on every attempt: only a count that survives abandonment ever stops it.
    const hang = (_e: unknown, ctx: { attempt: number }) => {
      seen.push(ctx.attempt)
      return new Promise<void>(() => undefined)
    }
    await bus().publish(topic, { type: 'hang' })
    for (let member = 0; member < 5 && dead.length === 0; member++) {
      const b = bus({
        onDeadLetter: (e) => void dead.push({ attempts: e.attempts, reason: e.reason }),
      })
      const before = seen.length
      await b.subscribe(topic, hang, group)
      await waitUntil(() => seen.length > before || dead.length > 0, {
        timeoutMs: 20_000,
        message: 'a delivery or the dead letter',
      })
      // The member leaves while its handler hangs: the event is abandoned.
      if (dead.length === 0) await b.close({ timeoutMs: 100 })
    }
    expect(seen).toEqual([1, 2, 3])
    expect(dead).toHaveLength(1)
    expect(dead[0]!.attempts).toBe(3)
    expect(dead[0]!.reason).toMatch(/^attempt 4 is past retry.maxAttempts \(3\)/)
  })

  it('attempts - a head buffered but never handed to a handler gets its attempt back when the member leaves', async () => {
    const topic = `sy.attempts.${randomUUID().slice(0, 8)}`
    await createTopics([topic, `${topic}.dlq`], 2)
    const group = { group: 'idle', startAt: 'earliest' as const, retry: { maxAttempts: 1 } }
    const keys = Array.from({ length: 10 }, (_, n) => `k${n}`)
    await bus().publishBatch(
      topic,
      keys.map((key) => ({ type: 'queued', partitionkey: key, data: { key } })),
    )
    // One slot, held forever by the first event: the other partition's head is fetched and
    // buffered (its attempt recorded), but never started.
    const first: string[] = []
    const b = bus()
    await b.subscribe(
      topic,
      (event) => {
        first.push((event.data as { key: string }).key)
        return new Promise<void>(() => undefined)
      },
      { ...group, concurrency: 1 },
    )
    await waitUntil(() => first.length === 1, { timeoutMs: 20_000, message: 'the first event' })
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    await b.close({ timeoutMs: 100 })

    const handled: Array<{ key: string; attempt: number }> = []
    const dead: string[] = []
    const c = bus({ onDeadLetter: (e) => void dead.push((e.event!.data as { key: string }).key) })
    await c.subscribe(
      topic,
      (event, ctx) =>
        void handled.push({ key: (event.data as { key: string }).key, attempt: ctx.attempt }),
      group,
    )
    await waitUntil(() => handled.length + dead.length === keys.length, {
      timeoutMs: 20_000,
      message: 'every event handled or dead-lettered',
    })
    // Only the abandoned event used up its single attempt.
    expect(dead).toEqual(first)
    expect(handled.map((h) => h.attempt)).toEqual(handled.map(() => 1))
    expect(handled.map((h) => h.key).sort()).toEqual(keys.filter((k) => k !== first[0]).sort())
  })
})
