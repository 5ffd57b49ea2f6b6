import { createEventBus, type EventBus, MessagesLostError, outcome } from '@switchyard/core'
import { waitUntil } from '@switchyard/testkit'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { redisTransport, topicKeys } from '../src/index.js'
import { deleteKeys, REDIS_URL, redisOrSkip, uniquePrefix } from './helpers.js'

const skip = await redisOrSkip()
const keyPrefix = uniquePrefix('retention')
afterAll(() => (skip === undefined ? deleteKeys(REDIS_URL, keyPrefix) : undefined))

const number = (data: unknown): number => (data as { n: number }).n

async function publishRange(bus: EventBus, topic: string, from: number, to: number) {
  for (let n = from; n < to; n++) await bus.publish(topic, { type: 'retention.test', data: { n } })
}

async function streamLength(topic: string): Promise<number> {
  const client = new Redis(REDIS_URL)
  try {
    return await client.xlen(topicKeys(keyPrefix, topic).stream)
  } finally {
    client.disconnect()
  }
}

describe.skipIf(skip !== undefined)('redis transport - retention', () => {
  it('retention - a retry waiting in the broker survives maxStreamLength', async () => {
    const topic = 'retention.retry'
    const errors: Error[] = []
    const bus = createEventBus({
      transport: redisTransport({ url: REDIS_URL, keyPrefix, maxStreamLength: 50 }),
      source: 'retention',
      hooks: { onError: (error) => void errors.push(error) },
    })
    const firstAttempts: number[] = []
    const handled = new Set<number>()
    await bus.subscribe(
      topic,
      (event, ctx) => {
        const n = number(event.data)
        if (n === 0) {
          firstAttempts.push(ctx.attempt)
          if (firstAttempts.length === 1) return outcome.retry({ delayMs: 3_000 })
        }
        handled.add(n)
        return undefined
      },
      { group: 'keeps-up', retry: { maxAttempts: 5 } },
    )
    const client = new Redis(REDIS_URL)
    try {
      await publishRange(bus, topic, 0, 1)
      const delay = topicKeys(keyPrefix, topic).delay('keeps-up')
      await waitUntil(async () => (await client.zcard(delay)) === 1, {
        timeoutMs: 5_000,
        message: 'the retry to be parked',
      })
      await publishRange(bus, topic, 1, 201)
      await waitUntil(() => firstAttempts.length === 2 && handled.size === 201, {
        timeoutMs: 10_000,
        message: 'the retried event and the 200 after it',
        describe: () => `retry attempts ${firstAttempts.length}, handled ${handled.size}`,
      })
      // Nothing holds the stream back any more: the next trims bring it down to the limit.
      await publishRange(bus, topic, 201, 211)
      await waitUntil(() => handled.size === 211, { timeoutMs: 5_000, message: 'the last 10' })
    } finally {
      client.disconnect()
      await bus.close()
    }
    expect(errors).toEqual([])
    expect(await streamLength(topic)).toBeLessThanOrEqual(60)
  }, 30_000)

  it('retention - a lagging group reads every event, however far behind maxStreamLength it is', async () => {
    const topic = 'retention.lagging'
    const errors: Error[] = []
    const bus = createEventBus({
      transport: redisTransport({ url: REDIS_URL, keyPrefix, maxStreamLength: 50 }),
      source: 'retention',
      hooks: { onError: (error) => void errors.push(error) },
    })
    try {
      // The group exists and has read nothing when 200 events arrive.
      await (await bus.subscribe(topic, () => undefined, { group: 'lagging' })).close()
      await publishRange(bus, topic, 0, 200)
      const seen = new Set<number>()
      await bus.subscribe(topic, (event) => void seen.add(number(event.data)), {
        group: 'lagging',
      })
      await waitUntil(() => seen.size === 200, {
        timeoutMs: 10_000,
        message: 'all 200 events for the lagging group',
        describe: () => `${seen.size} of 200`,
      })
      // Caught up: trimming resumes.
      await publishRange(bus, topic, 200, 210)
      await waitUntil(() => seen.size === 210, { timeoutMs: 5_000, message: 'the last 10' })
    } finally {
      await bus.close()
    }
    expect(errors).toEqual([])
    expect(await streamLength(topic)).toBeLessThanOrEqual(60)
  }, 30_000)

  it('retention - lossyTrim caps the stream and reports each event a group lost', async () => {
    const topic = 'retention.lossy'
    const errors: Error[] = []
    const bus = createEventBus({
      transport: redisTransport({
        url: REDIS_URL,
        keyPrefix,
        maxStreamLength: 50,
        lossyTrim: true,
      }),
      source: 'retention',
      hooks: { onError: (error) => void errors.push(error) },
    })
    const reported = (group: string) =>
      errors.reduce(
        (sum, e) =>
          sum + ((e as MessagesLostError).group === group ? (e as MessagesLostError).count : 0),
        0,
      )
    try {
      // One group has read nothing; the other keeps up but has a retry of event 0 waiting.
      await (await bus.subscribe(topic, () => undefined, { group: 'lagging' })).close()
      const retrying = new Set<number>()
      await bus.subscribe(
        topic,
        (event, ctx) => {
          const n = number(event.data)
          if (n === 0 && ctx.attempt === 1) return outcome.retry({ delayMs: 3_000 })
          retrying.add(n)
          return undefined
        },
        { group: 'retrying', retry: { maxAttempts: 5 } },
      )
      const client = new Redis(REDIS_URL)
      const delay = topicKeys(keyPrefix, topic).delay('retrying')
      await publishRange(bus, topic, 0, 1)
      await waitUntil(async () => (await client.zcard(delay)) === 1, {
        timeoutMs: 5_000,
        message: 'the retry to be parked',
      })
      client.disconnect()
      await publishRange(bus, topic, 1, 200)
      expect(await streamLength(topic)).toBeLessThanOrEqual(55)
      // The retry was trimmed with the rest: reported, never silent. (An event trimmed between
      // its handling and its XACK is reported too, so this group may count more than it lost.)
      await waitUntil(
        () => reported('retrying') >= 1 && retrying.size + reported('retrying') >= 200,
        {
          timeoutMs: 10_000,
          message: 'the trimmed retry reported',
          describe: () => `${retrying.size} handled, ${reported('retrying')} reported`,
        },
      )
      expect(retrying.has(0)).toBe(false)

      const seen = new Set<number>()
      await bus.subscribe(topic, (event) => void seen.add(number(event.data)), {
        group: 'lagging',
      })
      await waitUntil(() => seen.size + reported('lagging') === 200, {
        timeoutMs: 10_000,
        message: 'every event handled or reported lost',
        describe: () => `${seen.size} handled, ${reported('lagging')} reported`,
      })
      expect(seen.has(199)).toBe(true)
      expect(reported('lagging')).toBeGreaterThan(100)
      for (const error of errors) {
        expect(error).toBeInstanceOf(MessagesLostError)
        expect(error).toMatchObject({ code: 'ERR_MESSAGES_LOST' })
      }
    } finally {
      await bus.close()
    }
  }, 30_000)
})
