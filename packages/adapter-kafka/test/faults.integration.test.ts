import { randomUUID } from 'node:crypto'
import { createEventBus, type EventBus } from '@switchyard/core'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { kafkaTransport } from '../src/index.js'
import { buildMember, type Member, startMember } from './fixtures/spawn-member.js'
import { BROKERS, createTopics, FAST, probe, rawClient } from './helpers.js'

const skip = await serviceOrSkip('Kafka', () => probe())

describe.skipIf(skip !== undefined)('kafka faults (shared broker, nothing is stopped)', () => {
  const buses: EventBus[] = []
  const members: Member[] = []
  const bus = () => {
    const created = createEventBus({
      source: 'faults',
      transport: kafkaTransport({ brokers: BROKERS, ...FAST }),
    })
    buses.push(created)
    return created
  }
  const topic = async (label: string) => {
    const name = `sy.faults.${label}.${randomUUID().slice(0, 8)}`
    await createTopics([name, `${name}.dlq`], 3)
    return name
  }
  afterEach(async () => {
    for (const member of members.splice(0)) member.child.kill('SIGKILL')
    await Promise.allSettled(buses.splice(0).map((b) => b.close({ timeoutMs: 2_000 })))
  })

  it('consumer killed mid-batch - its uncommitted events go to the surviving member after the rebalance', async () => {
    const name = await topic('killed')
    const group = `killed-${randomUUID().slice(0, 8)}`
    const survivor = new Set<string>()
    await bus().subscribe(name, (event) => void survivor.add(event.id), { group, concurrency: 4 })
    const victim = startMember(await buildMember(), [BROKERS, name, group, '5'])
    members.push(victim)
    await victim.ready
    // Publish until the victim owns a partition and hangs on events of it (mid-batch).
    const producer = bus()
    const sent: string[] = []
    await waitUntil(
      async () => {
        const events = await producer.publishBatch(
          name,
          Array.from({ length: 30 }, (_, i) => ({ type: 'faults.killed', data: { i } })),
        )
        sent.push(...events.map((e) => e.id))
        return victim.finished.size >= 5 && victim.started.size >= 9
      },
      { timeoutMs: 30_000, intervalMs: 200, message: 'the victim to hang on 4 events' },
    )
    const hung = [...victim.started].filter((id) => !victim.finished.has(id))
    expect(hung.length).toBeGreaterThanOrEqual(4)
    expect(hung.every((id) => !survivor.has(id))).toBe(true)
    victim.child.kill('SIGKILL')
    // After the session timeout the group drops the victim and the survivor takes its partitions.
    const missing = () => sent.filter((id) => !survivor.has(id) && !victim.finished.has(id))
    await waitUntil(() => missing().length === 0, {
      timeoutMs: 40_000,
      message: 'every event handled by the survivor or finished by the victim',
      describe: () => `${missing().length} missing`,
    })
    for (const id of hung) expect(survivor.has(id)).toBe(true)
  })

  it('foreign record - no ce_* headers and a non-JSON value is dead-lettered with a reason; the partition moves on', async () => {
    const name = await topic('foreign')
    const consumer = bus()
    const handled: number[] = []
    await consumer.subscribe(name, (event) => void handled.push((event.data as { n: number }).n), {
      group: 'foreign',
    })
    const producer = rawClient().producer()
    await producer.connect()
    try {
      // Same key as the events after it: same partition, so they queue behind the bad record.
      await producer.send({ topic: name, messages: [{ key: 'order-1', value: 'not json {' }] })
    } finally {
      await producer.disconnect()
    }
    const publisher = bus()
    for (let n = 0; n < 5; n++) {
      await publisher.publish(name, { type: 'faults.after', partitionkey: 'order-1', data: { n } })
    }
    await waitUntil(() => handled.length >= 5, {
      timeoutMs: 30_000,
      message: 'the 5 events after the bad record',
    })
    expect(handled).toEqual([0, 1, 2, 3, 4])
    let entries: Awaited<ReturnType<EventBus['deadLetters']['list']>> = []
    await waitUntil(
      async () => {
        entries = await publisher.deadLetters.list(`${name}.dlq`)
        return entries.length >= 1
      },
      { timeoutMs: 30_000, intervalMs: 500, message: 'the dead-letter entry' },
    )
    expect(entries).toHaveLength(1)
    const entry = entries[0]!
    expect(entry.error.name).toBe('DecodeError')
    expect(entry.reason).toMatch(/could not decode/)
    expect(entry.attempts).toBe(1)
    expect(entry.topic).toBe(name)
    expect(entry.group).toBe('foreign')
    expect(entry.event).toBeUndefined()
    expect(entry.message.key).toBe('order-1')
    expect(Buffer.from(entry.message.body, 'base64').toString()).toBe('not json {')
    expect(entry.position).toMatch(/^\d+:\d+$/)
  })

  it('foreign record - an event produced without ce_time gets the record timestamp', async () => {
    const name = await topic('untimed')
    const consumer = bus()
    const times: string[] = []
    await consumer.subscribe(name, (event) => void times.push(event.time), { group: 'untimed' })
    const stamp = Date.parse('2026-01-02T03:04:05.678Z')
    const producer = rawClient().producer()
    await producer.connect()
    try {
      const headers = { ce_specversion: '1.0', ce_id: 'u-1', ce_source: 'bare', ce_type: 'untimed' }
      await producer.send({
        topic: name,
        messages: [{ value: '{}', headers, timestamp: String(stamp) }],
      })
    } finally {
      await producer.disconnect()
    }
    await waitUntil(() => times.length >= 1, { timeoutMs: 30_000, message: 'the untimed event' })
    expect(times).toEqual(['2026-01-02T03:04:05.678Z'])
  })

  it('rebalance - per-key order holds while members join and leave', async () => {
    const name = await topic('order')
    const group = `order-${randomUUID().slice(0, 8)}`
    const log: Array<{ key: string; seq: number; member: string }> = []
    const subscribe = (member: string) =>
      bus().subscribe(
        name,
        async (event) => {
          const { key, seq } = event.data as { key: string; seq: number }
          log.push({ key, seq, member })
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 2))
        },
        { group, concurrency: 8 },
      )
    const a = await subscribe('a')
    const producer = bus()
    const keys = Array.from({ length: 12 }, (_, k) => `key-${k}`)
    const total = keys.length * 150
    let b: Awaited<ReturnType<typeof subscribe>> | undefined
    for (let round = 0; round < 15; round++) {
      await producer.publishBatch(
        name,
        Array.from({ length: 120 }, (_, i) => {
          const key = keys[i % keys.length]!
          const seq = round * 10 + Math.floor(i / keys.length)
          return { type: 'faults.order', partitionkey: key, data: { key, seq } }
        }),
      )
      if (round === 5) b = await subscribe('b')
      if (round === 10) await a.close()
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const distinct = () => new Set(log.map((l) => `${l.key}/${l.seq}`)).size
    await waitUntil(() => distinct() >= total, {
      timeoutMs: 40_000,
      message: `${total} distinct events`,
      describe: () => `${distinct()} seen`,
    })
    await b?.close()
    expect(new Set(log.map((l) => l.member))).toEqual(new Set(['a', 'b']))
    // Redelivery after a rebalance may repeat events, never skip ahead: the first time each
    // event of a key is handled, every earlier event of that key has been handled already.
    for (const key of keys) {
      const firsts: number[] = []
      const seen = new Set<number>()
      for (const entry of log) {
        if (entry.key !== key || seen.has(entry.seq)) continue
        seen.add(entry.seq)
        firsts.push(entry.seq)
      }
      expect(firsts).toEqual(Array.from({ length: 150 }, (_, i) => i))
    }
  })
})
