import { constant, outcome, SchemaValidationError } from '@switchyard/core'
import { expect, it } from 'vitest'
import type { Harness } from './harness.js'

/** Scenarios 6-10: redelivery, continuing after errors, dead letters, non-retryable, delays. */
export function retryScenarios(h: Harness): void {
  const collectDeadLetters = (topic: string) => h.deadLetters(topic)

  for (const via of ['in-process', 'broker'] as const) {
    it(`redelivery - a first-attempt failure is handled on attempt 2 (retry ${via})`, async () => {
      const topic = await h.topic(`redeliver-${via}`)
      const bus = await h.bus()
      const attempts = new Map<string, number[]>()
      await bus.subscribe(
        topic,
        (event, ctx) => {
          attempts.set(event.id, [...(attempts.get(event.id) ?? []), ctx.attempt])
          if (ctx.attempt === 1) throw new Error('first attempt fails')
        },
        {
          group: 'redeliver',
          concurrency: 8,
          retry: {
            maxAttempts: 3,
            backoff: constant(20),
            inProcessMaxDelayMs: via === 'broker' ? 0 : 1_000,
          },
        },
      )
      const sent = await bus.publishBatch(
        topic,
        Array.from({ length: 50 }, (_, i) => ({ type: 'conformance.redeliver', data: { i } })),
      )
      const done = () => [...attempts.values()].filter((list) => list.includes(2)).length
      await h.until(
        () => done() >= 50,
        '50 second attempts',
        () => `${done()} done`,
      )
      await h.settle(() => [...attempts.values()].reduce((n, l) => n + l.length, 0))
      for (const event of sent) expect(attempts.get(event.id)).toEqual([1, 2])
    })
  }

  it.skipIf(!h.options.features.consumerGroups)(
    'continue after errors - 30% random failures across 5 subscribers, all handled',
    async () => {
      const topic = await h.topic('flaky')
      const handled = new Set<string>()
      let failures = 0
      for (let s = 0; s < 5; s++) {
        const bus = await h.bus()
        await bus.subscribe(
          topic,
          (event) => {
            if (Math.random() < 0.3) {
              failures++
              throw new Error('random failure')
            }
            handled.add(event.id)
          },
          { group: 'flaky', concurrency: 4, retry: { maxAttempts: 50, backoff: constant(5) } },
        )
      }
      const producer = await h.bus()
      const sent = await producer.publishBatch(
        topic,
        Array.from({ length: 200 }, (_, i) => ({ type: 'conformance.flaky', data: { i } })),
      )
      await h.until(
        () => handled.size >= 200,
        '200 handled despite failures',
        () => `${handled.size} handled`,
      )
      expect(failures).toBeGreaterThan(0)
      expect(handled).toEqual(new Set(sent.map((e) => e.id)))
    },
  )

  it('dead-lettering - 3 attempts, one entry with the original envelope, the subscription goes on', async () => {
    const topic = await h.topic('dead')
    const entries = await collectDeadLetters(topic)
    const bus = await h.bus()
    const attempts: number[] = []
    const good: string[] = []
    await bus.subscribe(
      topic,
      (event, ctx) => {
        if (event.type === 'conformance.poison') {
          attempts.push(ctx.attempt)
          throw new TypeError('always fails')
        }
        good.push(event.id)
      },
      { group: 'dead', retry: { maxAttempts: 3, backoff: constant(10) } },
    )
    const poison = await bus.publish(topic, {
      type: 'conformance.poison',
      subject: 'bad',
      data: { bad: true },
      tenantid: 't1',
      extensions: { origin: 'test' },
    })
    await bus.publishBatch(
      topic,
      Array.from({ length: 10 }, (_, i) => ({ type: 'conformance.good', data: { i } })),
    )
    await h.until(
      () => entries.length >= 1 && good.length >= 10,
      'one dead letter and 10 good events',
    )
    await h.settle(() => entries.length + attempts.length + good.length)
    expect(attempts).toEqual([1, 2, 3])
    expect(good).toHaveLength(10)
    expect(entries).toHaveLength(1)
    const entry = entries[0]!
    expect(entry.event).toEqual(poison)
    expect(entry.error).toMatchObject({ name: 'TypeError', message: 'always fails' })
    expect(entry.attempts).toBe(3)
    expect(entry.topic).toBe(topic)
    expect(entry.group).toBe('dead')
    expect(Date.parse(entry.deadLetteredAt)).toBeGreaterThan(Date.parse(poison.time) - 1_000)
    expect(entry.reason).toMatch(/3 attempts/)
  })

  it('non-retryable - decode error, validation error and explicit dead-letter after 1 attempt', async () => {
    const topic = await h.topic('nonretry')
    const entries = await collectDeadLetters(topic)
    const bus = await h.bus()
    const calls = new Map<string, number>()
    const good: string[] = []
    await bus.subscribe(
      topic,
      (event) => {
        calls.set(event.type, (calls.get(event.type) ?? 0) + 1)
        if (event.type === 'conformance.invalid') {
          throw new SchemaValidationError([
            { path: 'data.email', message: 'must match format "email"' },
          ])
        }
        if (event.type === 'conformance.reject') return outcome.deadLetter('rejected by handler')
        good.push(event.id)
      },
      { group: 'nonretry', retry: { maxAttempts: 5, backoff: constant(10) } },
    )
    // A message no CloudEvents producer would send: no attributes, not JSON.
    await bus.transport.publish(topic, [
      { id: 'raw-1', key: undefined, headers: {}, body: new Uint8Array(Buffer.from('not json {')) },
    ])
    await bus.publish(topic, { type: 'conformance.invalid', data: { email: 'nope' } })
    await bus.publish(topic, { type: 'conformance.reject', data: {} })
    await bus.publish(topic, { type: 'conformance.good', data: {} })
    await h.until(
      () => entries.length >= 3 && good.length >= 1,
      '3 dead letters and the good event',
    )
    await h.settle(() => entries.length + good.length)
    expect(entries).toHaveLength(3)
    expect(good).toHaveLength(1)
    expect(calls.get('conformance.invalid')).toBe(1)
    expect(calls.get('conformance.reject')).toBe(1)
    for (const entry of entries) expect(entry.attempts).toBe(1)
    const byError = new Map(entries.map((e) => [e.error.name, e]))
    expect(byError.get('DecodeError')?.event).toBeUndefined()
    expect(Buffer.from(byError.get('DecodeError')!.message.body, 'base64').toString()).toBe(
      'not json {',
    )
    expect(byError.get('SchemaValidationError')?.error.message).toMatch(/data\.email/)
    expect(byError.get('SchemaValidationError')?.error.issues).toEqual([
      { path: 'data.email', message: 'must match format "email"' },
    ])
    expect(entries.some((e) => e.reason === 'rejected by handler')).toBe(true)
  })

  for (const via of ['in-process', 'broker'] as const) {
    it(`delayed retry - backoff honoured, other keys not held back (retry ${via})`, async () => {
      const topic = await h.topic(`delay-${via}`)
      const bus = await h.bus()
      const delayMs = 400
      const times: number[] = []
      const others: Array<{ key: string; at: number }> = []
      await bus.subscribe(
        topic,
        (event, ctx) => {
          if (event.partitionkey === 'slow') {
            times.push(Date.now())
            if (ctx.attempt === 1) throw new Error('try again later')
            return
          }
          others.push({ key: event.partitionkey!, at: Date.now() })
        },
        {
          group: 'delay',
          concurrency: via === 'broker' ? 4 : 1,
          retry: {
            maxAttempts: 3,
            backoff: constant(delayMs),
            inProcessMaxDelayMs: via === 'broker' ? 0 : 5_000,
          },
        },
      )
      await bus.publish(topic, { type: 'conformance.delay', partitionkey: 'slow', data: {} })
      await h.until(() => times.length >= 1, 'the first attempt')
      await bus.publishBatch(
        topic,
        Array.from({ length: 10 }, (_, i) => ({
          type: 'conformance.delay',
          partitionkey: `fast-${i}`,
          data: {},
        })),
      )
      await h.until(() => times.length >= 2 && others.length >= 10, 'the retry and the other keys')
      const waited = times[1]! - times[0]!
      expect(waited).toBeGreaterThanOrEqual(delayMs - 5)
      expect(waited).toBeLessThanOrEqual(delayMs + h.toleranceMs)
      // Every other key was handled while the slow one waited.
      expect(others.every((o) => o.at < times[1]!)).toBe(true)
    })
  }

  it('dead-letter consumer - entries arrive parsed; one is replayed to its topic, the other discarded', async () => {
    const topic = await h.topic('dlq-consumer')
    const bus = await h.bus()
    let fixed = false
    const replayed: string[] = []
    await bus.subscribe(
      topic,
      (event) => {
        // The junk event always fails; the poison one only until the "fix" is deployed.
        if (event.type === 'conformance.junk' || !fixed) throw new Error('bad')
        replayed.push(event.id)
      },
      { group: 'dlq-source', retry: { maxAttempts: 1 } },
    )
    const poison = await bus.publish(topic, { type: 'conformance.poison' })
    const junk = await bus.publish(topic, { type: 'conformance.junk' })
    const seen: string[] = []
    await bus.deadLetters.subscribe(`${topic}.dlq`, async (entry, actions) => {
      expect(entry).toMatchObject({ topic, group: 'dlq-source', attempts: 1 })
      expect(entry.error.message).toBe('bad')
      seen.push(entry.event!.id)
      if (entry.event!.id === poison.id) {
        fixed = true
        await actions.replay()
      }
    })
    await h.until(() => seen.length >= 2, 'both dead letters at the consumer')
    expect(seen.sort()).toEqual([poison.id, junk.id].sort())
    await h.until(() => replayed.length >= 1, 'the replayed event handled')
    await h.settle(() => replayed.length + seen.length)
    expect(replayed).toEqual([poison.id])
    expect(seen).toHaveLength(2)
  })
}
