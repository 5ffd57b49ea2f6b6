import { ConfigurationError, ConnectionError, createEventBus } from '@switchyard/core'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { redisTransport } from '../src/index.js'
import { deleteKeys, REDIS_URL, redisOrSkip, sparePort, uniquePrefix } from './helpers.js'

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

  it('connect - no server on the port gives a ConnectionError within connectionTimeout', async () => {
    const port = await sparePort()
    const transport = redisTransport({ port, connectionTimeout: 1_000 })
    const started = Date.now()
    await expect(transport.connect()).rejects.toBeInstanceOf(ConnectionError)
    expect(Date.now() - started).toBeLessThan(3_000)
    await transport.close()
  })
})
