import type { BusInspection, GroupInspection } from '@switchyard/core'
import { expect, it } from 'vitest'
import type { Harness } from './harness.js'
import { waitUntil } from './wait.js'

/** `bus.inspect()`: retained, lag, pending, oldest unsettled and dead letters, exactly. */
export function inspectScenarios(h: Harness): void {
  it('inspect - lag, pending, oldest unsettled age and dead-letter depth of a group, exactly, without joining it', async (ctx) => {
    const topic = await h.topic('inspect')
    const bus = await h.bus()
    if (bus.transport.inspect === undefined) return ctx.skip(`${h.name} has no Transport.inspect`)
    // Two events for the dead-letter topic, one handled, one hanging, six never delivered.
    const types = ['poison', 'poison', 'ok', 'hang', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok']
    // One key: one partition where the broker has them, so the order holds everywhere.
    for (const [i, type] of types.entries()) {
      await bus.publish(topic, { type, partitionkey: 'inspect', data: { i } })
    }
    const publishedAt = Date.now()
    let release!: () => void
    const released = new Promise<void>((resolve) => {
      release = resolve
    })
    let handled = 0
    let hanging = false
    await bus.subscribe(
      topic,
      async (event) => {
        if (event.type === 'poison') throw new Error('poison')
        if (event.type === 'hang') {
          hanging = true
          await released
        }
        handled++
      },
      {
        group: 'inspect',
        startAt: 'earliest',
        concurrency: 1,
        prefetch: 1,
        retry: { maxAttempts: 1 },
      },
    )
    await h.until(() => hanging && handled === 1, 'the handled event and the hanging one')

    let seen: BusInspection | undefined
    const group = (): GroupInspection | undefined =>
      seen?.topics.find((t) => t.topic === topic)?.groups.find((g) => g.group === 'inspect')
    // Acks and offset commits reach the broker a little after the handler returned.
    await waitUntil(
      async () => {
        seen = await bus.inspect(topic)
        const g = group()
        const settledSeen = g !== undefined && (g.lag ?? 0) + (g.pending ?? 0) === 7
        return settledSeen && seen.topics[0]!.deadLetterDepth === 2 && g.deadLettered === 2
      },
      {
        timeoutMs: h.timeoutMs,
        message: 'inspect to show 7 unsettled and 2 dead letters',
        describe: () => JSON.stringify(seen),
      },
    )
    const [t] = seen!.topics
    expect(t!.topic).toBe(topic)
    expect(t!.deadLetterTopic).toBe(`${topic}.dlq`)
    if (t!.retained !== null) expect(t!.retained).toBe(10)
    // Inspecting joins no group: the only group is the subscriber's.
    expect(t!.groups.map((g) => g.group)).toEqual(['inspect'])
    const g = group()!
    if (g.pending !== null) {
      // Brokers that track deliveries: one in flight, six never delivered.
      expect(g).toMatchObject({ lag: 6, pending: 1 })
      expect(g.oldestUnsettledAgeMs).toBeGreaterThanOrEqual(0)
      expect(g.oldestUnsettledAgeMs).toBeLessThanOrEqual(Date.now() - publishedAt + 5_000)
    } else {
      // Offsets only (Kafka): everything past the committed offset is lag.
      expect(g.lag).toBe(7)
    }
    expect(JSON.parse(JSON.stringify(seen))).toEqual(seen)

    release()
    await h.until(() => handled === 8, 'the other events handled')
    await waitUntil(
      async () => {
        seen = await bus.inspect(topic)
        const after = group()
        return after !== undefined && after.lag === 0 && (after.pending ?? 0) === 0
      },
      {
        timeoutMs: h.timeoutMs,
        message: 'inspect to show nothing left',
        describe: () => JSON.stringify(seen),
      },
    )
    expect(group()!.oldestUnsettledAgeMs).toBeNull()
    // Without a topic: every topic the broker keeps for this transport, this one among them.
    const all = await bus.inspect()
    expect(all.topics.map((x) => x.topic)).toContain(topic)
  })
}
