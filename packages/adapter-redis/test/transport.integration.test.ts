import {
  ClosedError,
  ConfigurationError,
  ConnectionError,
  createEventBus,
  PublishError,
} from '@switchyard/core'
import { sparePort, waitUntil } from '@switchyard/testkit'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { redisTransport, topicKeys } from '../src/index.js'
import { deleteKeys, REDIS_URL, redisOrSkip, uniquePrefix } from './helpers.js'

const skip = await redisOrSkip()
const keyPrefix = uniquePrefix('transport')
afterAll(() => (skip === undefined ? deleteKeys(REDIS_URL, keyPrefix) : undefined))

describe.skipIf(skip !== undefined)('redis transport - connections', () => {
  it('connections - subscriptions beyond maxConnections fail, even when opened in parallel', async () => {
    const transport = redisTransport({ url: REDIS_URL, keyPrefix, maxConnections: 3 })
    await transport.connect()
    const options = { group: 'g', startAt: 'latest', prefetch: 4 } as const
    const results = await Promise.allSettled(
      ['a', 'b', 'c'].map((t) => transport.subscribe(`limit.${t}`, options)),
    )
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2)
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
    expect(rejected.reason).toBeInstanceOf(ConfigurationError)
    await transport.close()
  })

  it('connections - a client brought by the user is used and left open', async () => {
    const client = new Redis(REDIS_URL)
    const bus = createEventBus({ transport: redisTransport({ client, keyPrefix }), source: 'byo' })
    const seen: string[] = []
    await bus.subscribe('byo.events', (e) => void seen.push(e.id), { group: 'byo' })
    const sent = await bus.publish('byo.events', { type: 'byo.test' })
    await expect.poll(() => seen, { timeout: 5_000 }).toEqual([sent.id])
    await bus.close()
    expect(await client.ping()).toBe('PONG')
    client.disconnect()
  })

  it('health - up with a round trip time, down once closed', async () => {
    const transport = redisTransport({ url: REDIS_URL, keyPrefix })
    await transport.connect()
    expect(await transport.health()).toMatchObject({ status: 'up' })
    await transport.close()
    expect(await transport.health()).toEqual({ status: 'down', detail: 'transport closed' })
  })

  it('close - publish and subscribe after close throw ClosedError', async () => {
    const transport = redisTransport({ url: REDIS_URL, keyPrefix })
    await transport.connect()
    await transport.close()
    const message = { id: 'c1', key: undefined, headers: {}, body: new Uint8Array() }
    await expect(transport.publish('closed.t', [message])).rejects.toBeInstanceOf(ClosedError)
    const options = { group: 'g', startAt: 'latest', prefetch: 4 } as const
    await expect(transport.subscribe('closed.t', options)).rejects.toBeInstanceOf(ClosedError)
  })

  it('connect - no server on the port gives a ConnectionError within connectTimeoutMs', async () => {
    const port = await sparePort()
    const transport = redisTransport({ port, connectTimeoutMs: 1_000 })
    const started = Date.now()
    await expect(transport.connect()).rejects.toBeInstanceOf(ConnectionError)
    expect(Date.now() - started).toBeLessThan(3_000)
    await transport.close()
  })
})

describe.skipIf(skip !== undefined)('redis transport - streams', () => {
  // The first 31 events of a turn go out at once, one XADD each; the rest at the end of the
  // turn, as one XADD each when fewer than 32, else as one pipeline. The failing publish is in
  // each path in turn: the 2nd of 3 (at once), the 36th of 40 (queued, one XADD each), the 101st
  // of 200 (pipeline).
  for (const [count, failing] of [
    [3, 1],
    [40, 35],
    [200, 100],
  ] as const) {
    it(`publish - ${count} publishes of one turn keep their order; a failing XADD rejects only its own`, async () => {
      const bus = createEventBus({
        transport: redisTransport({ url: REDIS_URL, keyPrefix }),
        source: 'flush',
      })
      await bus.connect()
      const client = new Redis(REDIS_URL)
      const good = `flush.good.${count}`
      const bad = `flush.bad.${count}`
      // Not a stream: XADD on it fails with WRONGTYPE.
      await client.set(topicKeys(keyPrefix, bad).stream, 'not a stream')
      const results = await Promise.allSettled(
        Array.from({ length: count }, (_, n) =>
          bus.publish(n === failing ? bad : good, { type: 'flush.test', data: { n } }),
        ),
      )
      const rejected = results.filter((r) => r.status === 'rejected')
      expect(rejected).toHaveLength(1)
      expect((rejected[0] as PromiseRejectedResult).reason).toBeInstanceOf(PublishError)
      expect(results[failing]!.status).toBe('rejected')
      const entries = await client.xrange(topicKeys(keyPrefix, good).stream, '-', '+')
      const order = entries.map(([, fields]) => JSON.parse(fields.at(-1)!).n as number)
      expect(order).toEqual(Array.from({ length: count }, (_, n) => n).filter((n) => n !== failing))
      client.disconnect()
      await bus.close()
    })
  }

  it('ephemeral - an inbox subscription leaves no keys behind once closed', async () => {
    const transport = redisTransport({ url: REDIS_URL, keyPrefix })
    await transport.connect()
    const topic = 'inbox.ephemeral'
    const options = { group: 'inbox', startAt: 'latest', prefetch: 4, ephemeral: true } as const
    const subscription = await transport.subscribe(topic, options)
    await transport.publish(topic, [
      { id: 'r1', key: undefined, headers: {}, body: new Uint8Array() },
    ])
    const client = new Redis(REDIS_URL)
    const keys = topicKeys(keyPrefix, topic)
    expect(await client.exists(keys.stream)).toBe(1)
    await subscription.close()
    expect(await client.exists(keys.stream, keys.delay('inbox'), keys.attempts('inbox'))).toBe(0)
    client.disconnect()
    await transport.close()
  })

  it('maxStreamLength - a stream no group reads is trimmed to about the limit', async () => {
    const bus = createEventBus({
      transport: redisTransport({ url: REDIS_URL, keyPrefix, maxStreamLength: 100 }),
      source: 'trim',
    })
    for (let i = 0; i < 10; i++) {
      await bus.publishBatch(
        'trim.events',
        Array.from({ length: 100 }, (_, n) => ({ type: 'trim.test', data: { i, n } })),
      )
    }
    await bus.close()
    const client = new Redis(REDIS_URL)
    const length = await client.xlen(topicKeys(keyPrefix, 'trim.events').stream)
    client.disconnect()
    // Trimmed every tenth of the limit's publishes: never below the limit, far below the 1 000.
    expect(length).toBeGreaterThanOrEqual(100)
    expect(length).toBeLessThan(120)
  })

  it('startAt - a stream id: a new group reads that entry and what follows', async () => {
    const bus = createEventBus({
      transport: redisTransport({ url: REDIS_URL, keyPrefix }),
      source: 'seq',
    })
    await bus.publishBatch(
      'seq.events',
      Array.from({ length: 10 }, (_, i) => ({ type: 'seq.test', data: { i } })),
    )
    const client = new Redis(REDIS_URL)
    const entries = await client.xrange(topicKeys(keyPrefix, 'seq.events').stream, '-', '+')
    client.disconnect()
    const fromSeventh = entries[6]![0]
    const seen: number[] = []
    await bus.subscribe('seq.events', (e) => void seen.push((e.data as { i: number }).i), {
      group: 'from-id',
      startAt: { sequence: fromSeventh },
    })
    await expect.poll(() => seen, { timeout: 5_000 }).toEqual([6, 7, 8, 9])
    await expect(
      bus.subscribe('seq.events', () => undefined, {
        group: 'bad-id',
        startAt: { sequence: 'yesterday' },
      }),
    ).rejects.toBeInstanceOf(ConfigurationError)
    await bus.close()
  })
})

// Specific to Redis: its data can vanish or be of the wrong type under a running transport.
describe.skipIf(skip !== undefined)('redis transport - lost or foreign keys', () => {
  it('lost group - a stream deleted under a running subscription is recreated, consumption goes on', async () => {
    const topic = 'fault.lost'
    const bus = createEventBus({
      transport: redisTransport({ url: REDIS_URL, keyPrefix }),
      source: 'lost-test',
    })
    const seen = new Set<string>()
    await bus.subscribe(topic, (event) => void seen.add(event.id), { group: 'lost' })
    const before = await bus.publish(topic, { type: 'fault.before' })
    await waitUntil(() => seen.has(before.id), { timeoutMs: 5_000, message: 'the first event' })
    // What a server restarted without persistence looks like: no stream, no group.
    const client = new Redis(REDIS_URL)
    await client.del(topicKeys(keyPrefix, topic).stream)
    client.disconnect()
    const after: string[] = []
    for (let i = 0; i < 5; i++) after.push((await bus.publish(topic, { type: 'fault.after' })).id)
    await waitUntil(() => after.every((id) => seen.has(id)), {
      timeoutMs: 10_000,
      message: 'events published after the stream was lost',
      describe: () => `${after.filter((id) => seen.has(id)).length} of 5`,
    })
    await bus.close()
  })

  it('wrong type - a key that is not a stream fails subscribe with a ConfigurationError', async () => {
    const topic = 'fault.wrongtype'
    const client = new Redis(REDIS_URL)
    await client.set(topicKeys(keyPrefix, topic).stream, 'not a stream')
    client.disconnect()
    const bus = createEventBus({
      transport: redisTransport({ url: REDIS_URL, keyPrefix }),
      source: 'wrongtype-test',
    })
    const failure = await bus.subscribe(topic, () => undefined).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(ConfigurationError)
    expect((failure as Error).message).toMatch(/WRONGTYPE/)
    await bus.close()
  })
})
