import { ConnectionError, createEventBus, outcome } from '@switchyard/core'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { redisTransport, topicKeys } from '../src/index.js'
import {
  deleteKeys,
  hasRedisServer,
  PrivateRedis,
  REDIS_URL,
  redisOrSkip,
  uniquePrefix,
} from './helpers.js'

const skip = await redisOrSkip()
const keyPrefix = uniquePrefix('recovery')
afterAll(() => (skip === undefined ? deleteKeys(REDIS_URL, keyPrefix) : undefined))

// A server of the test's own, started late: needs the redis-server binary (a failure under CI).
const noBinary = await serviceOrSkip('the redis-server binary', async () => {
  if (!hasRedisServer()) throw new Error('redis-server is not on the PATH')
})

describe.skipIf(noBinary !== undefined)('redis transport - a server that comes up late', () => {
  it('recovery - a bus created while Redis is down fails fast, then works once it is up', async () => {
    // A port of our own with no server on it yet.
    const server = await PrivateRedis.reserve()
    const errors: Error[] = []
    const bus = createEventBus({
      transport: redisTransport({ url: server.url, keyPrefix }),
      source: 'late',
      hooks: { onError: (error) => void errors.push(error) },
    })
    try {
      const failed = await bus.publish('late.events', { type: 'late.test' }).catch((e) => e)
      expect(failed).toBeInstanceOf(ConnectionError)
      expect((failed as ConnectionError).retryable).toBe(true)
      // Subscribe fails as fast as publish does, with the same typed error.
      let started = Date.now()
      const refused = await bus.subscribe('late.events', () => undefined).catch((e) => e)
      expect(refused).toBeInstanceOf(ConnectionError)
      expect(Date.now() - started).toBeLessThan(2_000)

      await server.up()
      started = Date.now()
      const seen: string[] = []
      await bus.subscribe('late.events', (event) => void seen.push(event.id), { group: 'late' })
      const sent = await bus.publish('late.events', { type: 'late.test' })
      await waitUntil(() => seen.includes(sent.id), { timeoutMs: 5_000, message: 'the event' })
      expect(Date.now() - started).toBeLessThan(5_000)
    } finally {
      await bus.close()
      await server.destroy()
    }
  }, 40_000)
})

describe.skipIf(skip !== undefined)('redis transport - members of one group', () => {
  it('late ack - a member that closed with its handler running does not cancel the retry of the member that took over', async () => {
    const topic = 'late.ack'
    const group = 'takeover'
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const first = createEventBus({
      transport: redisTransport({ url: REDIS_URL, keyPrefix }),
      source: 'member-1',
      hooks: { onError: () => undefined },
    })
    let firstStarted = false
    const sub1 = await first.subscribe(
      topic,
      async () => {
        firstStarted = true
        await held
      },
      { group, closeTimeoutMs: 100 },
    )
    const sent = await first.publish(topic, { type: 'late.ack' })
    await waitUntil(() => firstStarted, { timeoutMs: 5_000, message: 'member 1 to start' })
    // Member 1 leaves with its handler still running: the entry is handed back to the group.
    await sub1.close()

    const second = createEventBus({
      transport: redisTransport({ url: REDIS_URL, keyPrefix }),
      source: 'member-2',
    })
    const attempts: number[] = []
    await second.subscribe(
      topic,
      (event, ctx) => {
        if (event.id !== sent.id) return undefined
        attempts.push(ctx.attempt)
        // The first time, member 2 asks for the event again in 2 s.
        return attempts.length === 1 ? outcome.retry({ delayMs: 2_000 }) : undefined
      },
      { group, retry: { maxAttempts: 10 } },
    )
    const client = new Redis(REDIS_URL)
    try {
      const delay = topicKeys(keyPrefix, topic).delay(group)
      await waitUntil(async () => attempts.length === 1 && (await client.zcard(delay)) === 1, {
        timeoutMs: 5_000,
        message: 'member 2 to take the entry and park its retry',
      })
      // Member 1's handler finishes now, after the hand-back: its ack must change nothing.
      release()
      await waitUntil(() => attempts.length === 2, {
        timeoutMs: 8_000,
        message: 'the retry member 2 asked for',
        describe: () => `attempts ${attempts.join(', ')}`,
      })
    } finally {
      client.disconnect()
      await second.close()
      await first.close()
    }
  }, 20_000)
})
