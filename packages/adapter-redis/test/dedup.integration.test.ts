import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createEventBus, dedup } from '@switchyard/core'
import { waitUntil } from '@switchyard/testkit'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { redisDedupStore, redisTransport } from '../src/index.js'
import { REDIS_URL, redisOrSkip, uniquePrefix } from './helpers.js'

const skip = await redisOrSkip()
const children: ChildProcess[] = []

function member(prefix: string, topic: string, dieAfter: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@switchyard/source',
      '--import',
      '@switchyard/config/ts-child',
      fileURLToPath(new URL('./fixtures/dedup-consumer.ts', import.meta.url)),
      REDIS_URL,
      prefix,
      topic,
      '500',
      String(dieAfter),
    ],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] },
  )
  children.push(child)
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`member exited early (${code})`)))
    child.stdout!.once('data', () => resolve(child))
  })
}

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL')
})

describe.skipIf(skip !== undefined)('redis dedup store', () => {
  it('dedup - two processes in one group, one killed between handling and ack: no event handled twice', async () => {
    const prefix = uniquePrefix('dedup')
    const topic = 'orders'
    const client = new Redis(REDIS_URL)
    const publisher = createEventBus({
      source: 'dedup-test',
      transport: redisTransport({ url: REDIS_URL, keyPrefix: prefix }),
    })
    try {
      // The group exists before anything is published, so both members share it from the start.
      await (await publisher.subscribe(topic, () => undefined, { group: 'dedup' })).close()
      const ids = new Set<string>()
      for (let i = 0; i < 200; i++)
        ids.add((await publisher.publish(topic, { type: 'order', data: { i } })).id)
      const doomed = await member(prefix, topic, 20)
      const died = new Promise<void>((resolve) => {
        if (doomed.signalCode !== null) resolve()
        else doomed.once('exit', () => resolve())
      })
      await member(prefix, topic, 0)
      await died
      // The killed member's unacknowledged events are reclaimed by the survivor after 500 ms.
      await waitUntil(
        async () => new Set(await client.lrange(`${prefix}:handled`, 0, -1)).size === ids.size,
        {
          timeoutMs: 30_000,
          message: 'every event handled',
        },
      )
      await new Promise((resolve) => setTimeout(resolve, 1_500))
      const handled = await client.lrange(`${prefix}:handled`, 0, -1)
      expect(new Set(handled)).toEqual(ids)
      expect(handled.length - ids.size).toBe(0)
    } finally {
      await publisher.close()
      client.disconnect()
    }
  })

  it('dedup - a claim another consumer holds is busy, a handled one is done, a released one can be claimed again', async () => {
    const client = new Redis(REDIS_URL)
    try {
      const prefix = `${uniquePrefix('claims')}:`
      const a = redisDedupStore({ client, prefix })
      const b = redisDedupStore({ client, prefix })
      expect(await a.claim('e1', 5_000)).toBe('claimed')
      expect(await b.claim('e1', 5_000)).toBe('busy')
      // b cannot release a's claim.
      await b.release('e1')
      expect(await b.claim('e1', 5_000)).toBe('busy')
      await a.release('e1')
      expect(await b.claim('e1', 5_000)).toBe('claimed')
      await b.complete('e1', 60_000)
      expect(await a.claim('e1', 5_000)).toBe('done')
      // A lease runs out: a consumer that died holding it does not block the event for ever.
      expect(await a.claim('e2', 100)).toBe('claimed')
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(await b.claim('e2', 100)).toBe('claimed')
    } finally {
      client.disconnect()
    }
  })

  it('dedup - the middleware with the Redis store handles a redelivered duplicate once', async () => {
    const client = new Redis(REDIS_URL)
    const prefix = uniquePrefix('dup')
    const bus = createEventBus({
      source: 'dedup-test',
      transport: redisTransport({ url: REDIS_URL, keyPrefix: prefix }),
      middleware: [dedup({ store: redisDedupStore({ client, prefix: `${prefix}:dedup:` }) })],
    })
    try {
      const handled: string[] = []
      await bus.subscribe('d', (e) => void handled.push(e.id), { group: 'g' })
      const event = await bus.publish('d', { type: 'x' })
      await bus.publish('d', { type: 'x', id: event.id, time: event.time })
      await bus.publish('d', { type: 'y' })
      await waitUntil(() => handled.length >= 2)
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(handled).toHaveLength(2)
    } finally {
      await bus.close()
      client.disconnect()
    }
  })
})
