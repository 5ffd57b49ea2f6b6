import { constant, createEventBus } from '@switchyard/core'
import { waitUntil } from '@switchyard/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { redisTransport } from '../src/index.js'
import { deleteKeys, REDIS_URL, redisOrSkip, uniquePrefix } from './helpers.js'

const skip = await redisOrSkip()
const keyPrefix = uniquePrefix('dlq')
afterAll(() => (skip === undefined ? deleteKeys(REDIS_URL, keyPrefix) : undefined))

describe.skipIf(skip !== undefined)('redis dead letters', () => {
  it('dead letters - listed from the dead-letter stream and replayed to the original topic', async () => {
    const topic = 'orders.placed'
    const bus = createEventBus({
      transport: redisTransport({ url: REDIS_URL, keyPrefix }),
      source: 'dlq-test',
    })
    let broken = true
    const handled: string[] = []
    await bus.subscribe(
      topic,
      (event) => {
        if (broken) throw new Error(`cannot handle ${event.id} yet`)
        handled.push(event.id)
      },
      { group: 'billing', retry: { maxAttempts: 2, backoff: constant(10) } },
    )
    const sent = await bus.publishBatch(
      topic,
      Array.from({ length: 3 }, (_, i) => ({ type: 'order.placed', data: { i } })),
    )
    let listed: Awaited<ReturnType<typeof bus.deadLetters.list>> = []
    await waitUntil(
      async () => {
        listed = await bus.deadLetters.list(`${topic}.dlq`)
        return listed.length >= 3
      },
      { timeoutMs: 10_000, message: 'three dead letters listed' },
    )
    expect(listed.map((e) => e.event?.id).sort()).toEqual(sent.map((e) => e.id).sort())
    for (const entry of listed) {
      expect(entry).toMatchObject({ topic, group: 'billing', attempts: 2 })
      expect(entry.error.message).toMatch(/cannot handle/)
      expect(entry.position).toMatch(/^\d+-\d+$/)
    }
    broken = false
    const replayed = await bus.deadLetters.replay(`${topic}.dlq`)
    expect(replayed).toBe(3)
    await waitUntil(() => handled.length >= 3, {
      timeoutMs: 10_000,
      message: 'replayed events handled',
    })
    expect(handled.sort()).toEqual(sent.map((e) => e.id).sort())
    await bus.close()
  })
})
