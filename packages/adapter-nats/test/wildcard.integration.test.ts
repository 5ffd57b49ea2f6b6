import { ConfigurationError, createEventBus, type EventBus } from '@switchyard/core'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { natsTransport } from '../src/index.js'
import { deleteStreams, NATS_URL, probe, runPrefix } from './nats-server.js'

const prefix = runPrefix('wild')
const skip = await serviceOrSkip('NATS', () => probe(NATS_URL))
const buses: EventBus[] = []

function bus(): EventBus {
  const created = createEventBus({
    transport: natsTransport({ servers: NATS_URL, autoStreams: { prefix } }),
    source: 'wildcards',
  })
  buses.push(created)
  return created
}

describe.skipIf(skip !== undefined)('nats wildcards', () => {
  afterAll(async () => {
    await Promise.all(buses.map((b) => b.close()))
    await deleteStreams(NATS_URL, prefix)
  })

  it('wildcards - orders.* receives every matching topic when subscribed before they exist', async () => {
    const root = `wild${Math.random().toString(36).slice(2, 8)}`
    const b = bus()
    const got: string[] = []
    await b.subscribe(`${root}.*`, (e) => void got.push(e.type), { group: 'g' })
    await b.publish(`${root}.created`, { type: 'order.created' })
    await b.publish(`${root}.paid`, { type: 'order.paid' })
    await waitUntil(() => got.length >= 2, { timeoutMs: 10_000 })
    expect(got.sort()).toEqual(['order.created', 'order.paid'])
  })

  it('wildcards - a wildcard over topics that already have their own streams is refused clearly', async () => {
    const root = `wild${Math.random().toString(36).slice(2, 8)}`
    const b = bus()
    await b.publish(`${root}.created`, { type: 'order.created' })
    await expect(b.subscribe(`${root}.>`, () => undefined)).rejects.toBeInstanceOf(
      ConfigurationError,
    )
  })

  it('wildcards - other transports reject wildcard topics', async () => {
    const { memoryTransport } = await import('@switchyard/adapter-memory')
    const memory = createEventBus({ transport: memoryTransport(), source: 'x' })
    await expect(memory.subscribe('orders.*', () => undefined)).rejects.toBeInstanceOf(
      ConfigurationError,
    )
    await expect(bus().publish('orders.*', { type: 'x' })).rejects.toBeInstanceOf(
      ConfigurationError,
    )
    await memory.close()
  })
})
