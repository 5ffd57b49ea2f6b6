import { ClosedError, type EventBus, TimeoutError } from '@switchyard/core'
import { expect, it } from 'vitest'
import { type Harness, pause, tally } from './harness.js'

/** Scenarios 11-16: order per key, close and reopen, publisher close, startAt, request/reply, graceful close. */
export function lifecycleScenarios(h: Harness): void {
  it.skipIf(!h.options.features.orderedPerKey)(
    'order per key - 10 keys x 100 events with concurrency 16 stay in order',
    async () => {
      const topic = await h.topic('order')
      const bus = await h.bus()
      const seen = new Map<string, number[]>()
      let running = 0
      let maxRunning = 0
      await bus.subscribe(
        topic,
        async (event) => {
          running++
          maxRunning = Math.max(maxRunning, running)
          await new Promise((resolve) => setImmediate(resolve))
          const { key, seq } = event.data as { key: string; seq: number }
          seen.set(key, [...(seen.get(key) ?? []), seq])
          running--
        },
        { group: 'order', concurrency: 16 },
      )
      const events = []
      for (let seq = 0; seq < 100; seq++) {
        for (let k = 0; k < 10; k++) {
          events.push({
            type: 'conformance.order',
            partitionkey: `key-${k}`,
            data: { key: `key-${k}`, seq },
          })
        }
      }
      await bus.publishBatch(topic, events)
      const total = () => [...seen.values()].reduce((n, l) => n + l.length, 0)
      await h.until(
        () => total() >= 1_000,
        '1 000 ordered events',
        () => `${total()} seen`,
      )
      expect(seen.size).toBe(10)
      const expected = Array.from({ length: 100 }, (_, i) => i)
      for (const list of seen.values()) expect(list).toEqual(expected)
      expect(maxRunning).toBeGreaterThan(1)
    },
  )

  it.skipIf(!h.options.features.persistent)(
    'close and reopen - 5 reopenings while 2 000 events flow, none lost',
    async () => {
      const topic = await h.topic('reopen')
      const producer = await h.bus()
      const consumer = await h.bus()
      const seen: string[] = []
      const subscribe = () =>
        consumer.subscribe(topic, (event) => void seen.push(event.id), {
          group: 'reopen',
          concurrency: 4,
        })
      let subscription = await subscribe()
      const sent: string[] = []
      const publishing = (async () => {
        for (let batch = 0; batch < 40; batch++) {
          const events = await producer.publishBatch(
            topic,
            Array.from({ length: 50 }, (_, i) => ({
              type: 'conformance.reopen',
              data: { batch, i },
            })),
          )
          sent.push(...events.map((e) => e.id))
          await pause(10)
        }
      })()
      for (let round = 0; round < 5; round++) {
        await h.until(() => seen.length > round * 300, `progress before reopening #${round + 1}`)
        await subscription.close()
        subscription = await subscribe()
      }
      await publishing
      await h.until(
        () => new Set(seen).size >= 2_000,
        '2 000 distinct events',
        () => `${new Set(seen).size}`,
      )
      expect(new Set(seen)).toEqual(new Set(sent))
      const duplicates = seen.length - new Set(seen).size
      console.info(
        `[conformance:${h.name}] close/reopen: 2000 events, ${duplicates} redelivered duplicates`,
      )
    },
  )

  it('publisher close - 10 000 concurrent publishes then close, none lost', async () => {
    const topic = await h.topic('pubclose')
    const consumer = await h.bus()
    const seen = new Set<string>()
    await consumer.subscribe(topic, (event) => void seen.add(event.id), {
      group: 'pubclose',
      concurrency: 16,
    })
    const producer = await h.bus()
    const publishes = Array.from({ length: 10_000 }, (_, i) =>
      producer.publish(topic, { type: 'conformance.pubclose', data: { i } }),
    )
    const closing = producer.close()
    const sent = await Promise.all(publishes)
    await closing
    await expect(producer.publish(topic, { type: 'late' })).rejects.toBeInstanceOf(ClosedError)
    await h.until(
      () => seen.size >= 10_000,
      '10 000 events after the publisher closed',
      () => `${seen.size}`,
    )
    expect(seen).toEqual(new Set(sent.map((e) => e.id)))
  })

  it.skipIf(!h.options.features.replayFromStart)(
    'startAt - earliest gets earlier events, latest only new ones, a time only later ones',
    async () => {
      const topic = await h.topic('startat')
      const producer = await h.bus()
      const before = await producer.publishBatch(
        topic,
        Array.from({ length: 20 }, (_, i) => ({ type: 'conformance.before', data: { i } })),
      )
      await pause(1_100)
      const cut = new Date()
      await pause(100)
      const middle = await producer.publishBatch(
        topic,
        Array.from({ length: 5 }, (_, i) => ({ type: 'conformance.middle', data: { i } })),
      )
      const consumer = await h.bus()
      const got = { earliest: [] as string[], latest: [] as string[], time: [] as string[] }
      await consumer.subscribe(topic, (e) => void got.earliest.push(e.id), {
        group: 'from-start',
        startAt: 'earliest',
      })
      await consumer.subscribe(topic, (e) => void got.latest.push(e.id), {
        group: 'from-now',
        startAt: 'latest',
      })
      await consumer.subscribe(topic, (e) => void got.time.push(e.id), {
        group: 'from-time',
        startAt: { time: cut },
      })
      const after = await producer.publishBatch(
        topic,
        Array.from({ length: 10 }, (_, i) => ({ type: 'conformance.after', data: { i } })),
      )
      await h.until(
        () => got.earliest.length >= 35 && got.latest.length >= 10 && got.time.length >= 15,
        'all three groups',
        () => JSON.stringify({ e: got.earliest.length, l: got.latest.length, t: got.time.length }),
      )
      await h.settle(() => got.earliest.length + got.latest.length + got.time.length)
      // Exact membership and counts; order across partitions is not promised without keys.
      const ids = (...lists: { id: string }[][]) =>
        lists
          .flat()
          .map((e) => e.id)
          .sort()
      expect([...got.earliest].sort()).toEqual(ids(before, middle, after))
      expect([...got.latest].sort()).toEqual(ids(after))
      expect([...got.time].sort()).toEqual(ids(middle, after))
    },
  )

  it('request/reply - the reply arrives; without a responder a TimeoutError in time', async () => {
    const topic = await h.topic('rpc')
    const server = await h.bus()
    const client = await h.bus()
    await server.respond<{ numbers: number[] }>(topic, (event) => ({
      sum: event.data!.numbers.reduce((a, b) => a + b, 0),
    }))
    const reply = await client.request(topic, { numbers: [1, 2, 3] }, { timeoutMs: h.timeoutMs })
    expect(reply.data).toEqual({ sum: 6 })
    const silent = await h.topic('rpc-silent')
    const started = Date.now()
    await expect(
      client.request(silent, { numbers: [] }, { timeoutMs: 300 }),
    ).rejects.toBeInstanceOf(TimeoutError)
    expect(Date.now() - started).toBeLessThan(300 + h.toleranceMs)
  })

  it('graceful close - 20 handlers in flight finish and are acknowledged, nothing new starts', async () => {
    const topic = await h.topic('graceful')
    const consumer = await h.bus()
    const started: string[] = []
    const finished: string[] = []
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const subscription = await consumer.subscribe(
      topic,
      async (event) => {
        started.push(event.id)
        await gate
        await pause(50)
        finished.push(event.id)
      },
      { group: 'graceful', concurrency: 20, prefetch: 20 },
    )
    const producer = await h.bus()
    const sent = await producer.publishBatch(
      topic,
      Array.from({ length: 40 }, (_, i) => ({ type: 'conformance.graceful', data: { i } })),
    )
    await h.until(() => started.length >= 20, '20 handlers in flight')
    const closeStarted = Date.now()
    const closing = subscription.close({ timeoutMs: 5_000 })
    release()
    await closing
    expect(Date.now() - closeStarted).toBeLessThan(5_000)
    expect(started).toHaveLength(20)
    expect(finished.sort()).toEqual([...started].sort())
    await subscription.close()
    // The 20 finished ones were acknowledged: a new member of the group gets exactly the other 20.
    const rest: string[] = []
    const again = await h.bus()
    await again.subscribe(topic, (e) => void rest.push(e.id), { group: 'graceful', concurrency: 4 })
    await h.until(() => rest.length >= 20, 'the 20 events that never started')
    await h.settle(() => rest.length)
    expect(tally([...started, ...rest]).size).toBe(40)
    expect(new Set([...started, ...rest])).toEqual(new Set(sent.map((e) => e.id)))
    expect(rest).toHaveLength(20)
  })

  it('graceful close - await using closes the bus', async () => {
    let escaped: EventBus | undefined
    {
      await using bus = await h.bus()
      escaped = bus
      await bus.publish(await h.topic('using'), { type: 'conformance.using' })
    }
    await expect(escaped.publish('sy.any', { type: 'late' })).rejects.toBeInstanceOf(ClosedError)
    await expect(escaped.close()).resolves.toBeUndefined()
  })

  it('pause and resume - a paused subscription reads and starts nothing, keeps its place, then takes everything', async () => {
    const topic = await h.topic('pause')
    const bus = await h.bus()
    const other = await h.bus()
    const got: number[] = []
    const subscription = await bus.subscribe(
      topic,
      (event) => void got.push((event.data as { i: number }).i),
      { group: 'pause' },
    )
    await bus.publish(topic, { type: 'conformance.pause', data: { i: 0 } })
    await h.until(() => got.length === 1, 'the event before the pause')
    subscription.pause()
    await other.publishBatch(
      topic,
      Array.from({ length: 10 }, (_, i) => ({ type: 'conformance.pause', data: { i: i + 1 } })),
    )
    await pause(h.toleranceMs + 500)
    expect(got).toEqual([0])
    subscription.resume()
    await h.until(() => got.length >= 11, 'the 10 events published while paused')
    await h.settle(() => got.length)
    expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 11 }, (_, i) => i))
  })
}
