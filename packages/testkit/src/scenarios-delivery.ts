import type { EventEnvelope } from '@switchyard/core'
import { expect, it } from 'vitest'
import { type Harness, tally } from './harness.js'

/** Scenarios 1-5: round trip, batch, competing consumers, topic isolation, fan-out. */
export function deliveryScenarios(h: Harness): void {
  it('round trip - 100 events arrive with the envelope intact', async () => {
    const topic = await h.topic('roundtrip')
    const consumer = await h.bus()
    const producer = await h.bus()
    const received: EventEnvelope[] = []
    await consumer.subscribe(topic, (event) => void received.push(event), { group: 'rt' })
    const sent: EventEnvelope[] = []
    for (let i = 0; i < 100; i++) {
      sent.push(
        await producer.publish(topic, {
          type: 'conformance.roundtrip',
          source: '/conformance/producer',
          subject: `item-${i}`,
          dataschema: 'https://example.com/schemas/roundtrip.json',
          datacontenttype: 'application/json',
          data: { index: i, nested: { ok: true, list: [1, 'two', null] } },
          tenantid: 'tenant-a',
          correlationid: `corr-${i}`,
          causationid: `cause-${i}`,
          partitionkey: `key-${i % 7}`,
          traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
          tracestate: 'vendor=value',
          extensions: { region: 'eu', custom1: `c${i}` },
        }),
      )
    }
    await h.until(() => received.length >= 100, '100 round-trip events')
    await h.settle(() => received.length)
    expect(received).toHaveLength(100)
    const byId = new Map(received.map((e) => [e.id, e]))
    for (const event of sent) expect(byId.get(event.id)).toEqual(event)
  })

  it('batch publish - 1 000 events, each handled once', async () => {
    const topic = await h.topic('batch')
    const bus = await h.bus()
    const seen: string[] = []
    await bus.subscribe(topic, (event) => void seen.push(event.id), {
      group: 'batch',
      concurrency: 8,
    })
    const events = Array.from({ length: 1_000 }, (_, i) => ({
      type: 'conformance.batch',
      data: { i },
    }))
    const sent = await bus.publishBatch(topic, events)
    expect(sent).toHaveLength(1_000)
    await h.until(
      () => seen.length >= 1_000,
      '1 000 batch events',
      () => `${seen.length} seen`,
    )
    await h.settle(() => seen.length)
    const counts = tally(seen)
    expect(counts.size).toBe(1_000)
    expect([...counts.values()].every((n) => n === 1)).toBe(true)
    expect(new Set(sent.map((e) => e.id))).toEqual(new Set(seen))
  })

  it.skipIf(!h.options.features.consumerGroups)(
    'competing consumers - 50 publishers x 100 events over 10 subscribers in one group',
    async () => {
      const topic = await h.topic('competing')
      const seen: Array<{ id: string; by: number }> = []
      for (let s = 0; s < 10; s++) {
        const bus = await h.bus()
        await bus.subscribe(topic, (event) => void seen.push({ id: event.id, by: s }), {
          group: 'workers',
          concurrency: 4,
        })
      }
      const publishers = await Promise.all(Array.from({ length: 5 }, () => h.bus()))
      await Promise.all(
        Array.from({ length: 50 }, async (_, p) => {
          const bus = publishers[p % 5]!
          for (let i = 0; i < 100; i++)
            await bus.publish(topic, { type: 'conformance.work', data: { p, i } })
        }),
      )
      await h.until(
        () => seen.length >= 5_000,
        '5 000 competing events',
        () => `${seen.length} seen`,
      )
      await h.settle(() => seen.length)
      const counts = tally(seen.map((s) => s.id))
      expect(counts.size).toBe(5_000)
      expect([...counts.values()].filter((n) => n > 1)).toEqual([])
      expect(new Set(seen.map((s) => s.by)).size).toBeGreaterThan(1)
    },
  )

  it('topic isolation - 20 topics in parallel, no event crosses a topic', async () => {
    const topics = await Promise.all(Array.from({ length: 20 }, (_, i) => h.topic(`iso${i}`)))
    const bus = await h.bus()
    const received = new Map<string, string[]>(topics.map((t) => [t, []]))
    await Promise.all(
      topics.map((topic) =>
        bus.subscribe(
          topic,
          (event) => void received.get(topic)!.push((event.data as { topic: string }).topic),
          {
            group: 'iso',
          },
        ),
      ),
    )
    await Promise.all(
      topics.map((topic) =>
        bus.publishBatch(
          topic,
          Array.from({ length: 25 }, () => ({ type: 'conformance.iso', data: { topic } })),
        ),
      ),
    )
    const total = () => [...received.values()].reduce((n, list) => n + list.length, 0)
    await h.until(
      () => total() >= 500,
      '500 isolated events',
      () => `${total()} seen`,
    )
    await h.settle(total)
    for (const topic of topics) {
      expect(received.get(topic)).toHaveLength(25)
      expect(received.get(topic)!.every((t) => t === topic)).toBe(true)
    }
  })

  it.skipIf(!h.options.features.consumerGroups)(
    'fan-out - two groups each receive all 500 events',
    async () => {
      const topic = await h.topic('fanout')
      const a: string[] = []
      const b: string[] = []
      await (await h.bus()).subscribe(topic, (e) => void a.push(e.id), {
        group: 'group-a',
        concurrency: 4,
      })
      await (await h.bus()).subscribe(topic, (e) => void b.push(e.id), {
        group: 'group-b',
        concurrency: 4,
      })
      const producer = await h.bus()
      const sent = await producer.publishBatch(
        topic,
        Array.from({ length: 500 }, (_, i) => ({ type: 'conformance.fanout', data: { i } })),
      )
      await h.until(
        () => a.length >= 500 && b.length >= 500,
        'both groups to get 500',
        () => `${a.length}/${b.length}`,
      )
      await h.settle(() => a.length + b.length)
      const ids = new Set(sent.map((e) => e.id))
      expect(tally(a).size).toBe(500)
      expect(tally(b).size).toBe(500)
      expect(a).toHaveLength(500)
      expect(b).toHaveLength(500)
      expect(new Set(a)).toEqual(ids)
      expect(new Set(b)).toEqual(ids)
    },
  )
}
