import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import {
  ClosedError,
  ConfigurationError,
  createEventBus,
  type EventBus,
  type EventEnvelope,
} from '@switchyard/core'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { type NatsTransport, natsTransport } from '../src/index.js'
import { deleteStreams, NATS_URL, probe, runPrefix } from './nats-server.js'

const prefix = runPrefix('feat')
const skip = await serviceOrSkip('NATS', () => probe(NATS_URL))
const run = Math.random().toString(36).slice(2, 8)
const ns = `feat${run}`
const buses: EventBus[] = []

function bus(options: ConstructorParameters<typeof NatsTransport>[0] = {}): EventBus {
  const transport = natsTransport({ servers: NATS_URL, autoStreams: { prefix }, ...options })
  const created = createEventBus({ transport, source: 'feature-test' })
  buses.push(created)
  return created
}

async function streamInfo(name: string) {
  const nc = await connect({ servers: NATS_URL })
  try {
    return await (await jetstreamManager(nc)).streams.info(name)
  } finally {
    await nc.close()
  }
}

afterEach(async () => {
  await Promise.allSettled(buses.splice(0).map((b) => b.close({ timeoutMs: 2_000 })))
})
afterAll(async () => {
  if (skip === undefined) await deleteStreams(NATS_URL, prefix)
})

describe.skipIf(skip !== undefined)('nats features', () => {
  it("streams - declared streams get their limits, dead letters land in the dead-letter stream (the README's Anumate layout)", async () => {
    // The layout of the README's Anumate example, with the catalog's two-token topics, under a
    // namespace of its own (its `<ns>.*` would take the other tests' topics).
    const anu = `${ns}anumate`
    const streams = [
      { name: `${prefix}EVENTS`, subjects: [`${anu}.*`], maxMsgs: 1_000, maxAgeMs: 3_600_000 },
      { name: `${prefix}DEAD`, subjects: [`${anu}.*.dlq`] },
    ]
    const b = bus({ streams })
    const topic = `${anu}.capsules`
    await b.subscribe(
      topic,
      () => {
        throw new Error('cannot handle')
      },
      { group: 'registry', retry: { maxAttempts: 2, backoff: () => 5 } },
    )
    await b.publish(topic, { type: 'com.anumate.capsule.created', data: { id: 'cap-1' } })
    let dead: Awaited<ReturnType<EventBus['deadLetters']['list']>> = []
    await waitUntil(
      async () => {
        dead = await b.deadLetters.list(`${topic}.dlq`)
        return dead.length === 1
      },
      { timeoutMs: 10_000, message: 'the dead letter' },
    )
    expect(dead[0]).toMatchObject({ attempts: 2, group: 'registry', topic })
    const events = await streamInfo(`${prefix}EVENTS`)
    expect(events.config).toMatchObject({ max_msgs: 1_000, max_age: 3_600_000_000_000 })
    expect(events.state.messages).toBe(1)
    expect((await streamInfo(`${prefix}DEAD`)).state.messages).toBe(1)
    // A second process declaring the same streams joins them as they are.
    await bus({ streams }).connect()
  })

  it('streams - every limit reaches the server, and a changed declaration updates the stream', async () => {
    const name = `${prefix}LIMITS`
    const subjects = [`${ns}lim.limits.*`]
    const first = { name, subjects, maxMsgs: 500, maxBytes: 1_048_576, maxAgeMs: 60_000 }
    await bus({ streams: [{ ...first, storage: 'memory', replicas: 1 }] }).connect()
    expect((await streamInfo(name)).config).toMatchObject({
      max_msgs: 500,
      max_bytes: 1_048_576,
      max_age: 60_000_000_000,
      storage: 'memory',
      num_replicas: 1,
    })
    // Another deployment raises the limits: the stream is updated in place.
    const raised = { ...first, maxMsgs: 2_000, maxBytes: 4_194_304, storage: 'memory' as const }
    await bus({ streams: [raised] }).connect()
    expect((await streamInfo(name)).config).toMatchObject({
      max_msgs: 2_000,
      max_bytes: 4_194_304,
      storage: 'memory',
    })
    // The server cannot move a stream to other storage: that is refused, not ignored.
    await expect(bus({ streams: [{ ...raised, storage: 'file' }] }).connect()).rejects.toThrow(
      /storage/i,
    )
  })

  it('streams - a declared stream without subjects must exist', async () => {
    const b = bus({ streams: [{ name: `${prefix}NOPE` }] })
    await expect(b.connect()).rejects.toThrow(/does not exist/)
  })

  it('streams - with autoStreams off, a topic no stream stores is a clear error', async () => {
    const b = bus({ autoStreams: false })
    await expect(b.publish(`${ns}.nowhere`, { type: 'x' })).rejects.toThrow(/No stream stores/)
  })

  it('wildcards - an alias reads orders.> and the type filter applies on top', async () => {
    // Its own namespace: the declared streams above already hold `${ns}.*.*`.
    const shop = `${ns}shop`
    const consumer = bus({ subjects: { 'orders.all': `${shop}.orders.>` } })
    const got: EventEnvelope[] = []
    await consumer.subscribe('orders.all', (e) => void got.push(e), {
      group: 'all-orders',
      types: 'order.created',
    })
    const producer = bus()
    await producer.publish(`${shop}.orders.eu`, { type: 'order.created', data: { region: 'eu' } })
    await producer.publish(`${shop}.orders.us.west`, { type: 'order.created', data: { r: 'us' } })
    await producer.publish(`${shop}.orders.eu`, { type: 'order.cancelled', data: {} })
    const last = await producer.publish(`${shop}.orders.eu`, { type: 'order.created', data: {} })
    await waitUntil(() => got.some((e) => e.id === last.id), { timeoutMs: 10_000 })
    expect(got.map((e) => e.type)).toEqual(['order.created', 'order.created', 'order.created'])
  })

  it('wildcards - several filter subjects need nats-server 2.10, detected from the server', async () => {
    const b = bus({ subjects: { both: [`${ns}.multi.a`, `${ns}.multi.b`] } })
    await b.connect()
    const transport = b.transport as NatsTransport
    const attempt = b.subscribe('both', () => undefined, { group: 'multi' })
    if (transport.server!.multipleFilterSubjects) {
      await expect(attempt).resolves.toBeDefined()
    } else {
      await expect(attempt).rejects.toThrow(ConfigurationError)
      await expect(attempt).rejects.toThrow(/2\.10/)
    }
  })

  it('ack wait - a handler longer than ack_wait is kept alive and handled once', async () => {
    const topic = `${ns}.slow`
    const b = bus({ ackWaitMs: 600 })
    let calls = 0
    let done = false
    await b.subscribe(
      topic,
      async () => {
        calls++
        await new Promise((resolve) => setTimeout(resolve, 2_000))
        done = true
      },
      { group: 'slow' },
    )
    await b.publish(topic, { type: 'slow', data: {} })
    await waitUntil(() => done, { timeoutMs: 10_000 })
    await new Promise((resolve) => setTimeout(resolve, 900))
    expect(calls).toBe(1)
  })

  it('max deliver - past the server max_deliver, the bus retry budget still ends in a dead letter', async () => {
    const topic = `${ns}.maxdeliver`
    const b = bus({ maxDeliver: 2 })
    const attempts: number[] = []
    await b.subscribe(
      topic,
      (_event, ctx) => {
        attempts.push(ctx.attempt)
        throw new Error('still failing')
      },
      { group: 'md', retry: { maxAttempts: 4, backoff: () => 20, inProcessMaxDelayMs: 0 } },
    )
    await b.publish(topic, { type: 'md', data: {} })
    let dead: Awaited<ReturnType<EventBus['deadLetters']['list']>> = []
    await waitUntil(
      async () => {
        dead = await b.deadLetters.list(`${topic}.dlq`)
        return dead.length === 1
      },
      { timeoutMs: 10_000, message: 'the dead letter' },
    )
    expect(attempts).toEqual([1, 2, 3, 4])
    expect(dead[0]).toMatchObject({ attempts: 4, group: 'md' })
  })

  it('dead letters - a replay within the duplicate window is stored, not dropped as a duplicate', async () => {
    const topic = `${ns}.replay-dlq`
    const b = bus()
    let failing = true
    const attempts: number[] = []
    await b.subscribe(
      topic,
      (_event, ctx) => {
        attempts.push(ctx.attempt)
        if (failing) throw new Error('not yet')
      },
      { group: 'replay', retry: { maxAttempts: 1 } },
    )
    const sent = await b.publish(topic, { type: 'replay.me', data: {} })
    await waitUntil(async () => (await b.deadLetters.list(`${topic}.dlq`)).length === 1, {
      timeoutMs: 10_000,
      message: 'the dead letter',
    })
    failing = false
    expect(await b.deadLetters.replay(`${topic}.dlq`, { idleMs: 200 })).toBe(1)
    await waitUntil(() => attempts.length === 2, { timeoutMs: 10_000, message: 'the replay' })
    expect(attempts).toEqual([1, 1])
    const [dead] = await b.deadLetters.list(`${topic}.dlq`)
    expect(dead!.event?.id).toBe(sent.id)
  })

  it('dedup - a publish sent again with the same event id (Nats-Msg-Id) is stored once', async () => {
    const topic = `${ns}.dedup`
    const producer = bus()
    const seen: string[] = []
    await bus().subscribe(topic, (event) => void seen.push(event.id), { group: 'dedup' })
    const first = await producer.publish(topic, { id: 'order-42', type: 'dedup', data: {} })
    // What the bus's publish retry does after a lost ack: same id, sent again.
    await producer.publish(topic, { id: 'order-42', type: 'dedup', data: {} })
    const encoded = { id: 'order-42', key: undefined, headers: {}, body: new Uint8Array([1]) }
    await producer.transport.publish(topic, [encoded])
    const marker = await producer.publish(topic, { type: 'dedup.marker', data: {} })
    await waitUntil(() => seen.includes(marker.id), { timeoutMs: 10_000, message: 'the marker' })
    expect(seen).toEqual([first.id, marker.id])
    const nc = await connect({ servers: NATS_URL })
    try {
      const jsm = await jetstreamManager(nc)
      expect((await jsm.streams.info(await jsm.streams.find(topic))).state.messages).toBe(2)
    } finally {
      await nc.close()
    }
  })

  it('request/reply - a reply goes straight to the inbox subscription: no stream for it', async () => {
    const requester = bus()
    const responder = bus()
    const topic = `${ns}.ask`
    await responder.respond(topic, () => ({ ok: true }))
    const reply = await requester.request(topic, { q: 1 }, { timeoutMs: 5_000 })
    expect(reply.data).toEqual({ ok: true })
    const nc = await connect({ servers: NATS_URL })
    try {
      const names: string[] = []
      for await (const name of (await jetstreamManager(nc)).streams.names()) names.push(name)
      expect(names.filter((n) => n.startsWith(prefix) && /inbox/i.test(n))).toEqual([])
    } finally {
      await nc.close()
    }
  })

  it('startAt - a stream sequence replays from there', async () => {
    const topic = `${ns}.replay`
    const b = bus()
    const sent = await b.publishBatch(
      topic,
      Array.from({ length: 5 }, (_, i) => ({ type: 'replay', data: { i } })),
    )
    const got: string[] = []
    await b.subscribe(topic, (e) => void got.push(e.id), {
      group: 'from-3',
      startAt: { sequence: 3 },
    })
    await waitUntil(() => got.length >= 3, { timeoutMs: 10_000 })
    expect(got).toEqual(sent.slice(2).map((e) => e.id))
  })

  it('lifecycle - a client passed in stays open, health reports the server', async () => {
    const nc = await connect({ servers: NATS_URL })
    try {
      const transport = natsTransport({ client: nc, autoStreams: { prefix } })
      expect((await transport.health()).status).toBe('down')
      await transport.connect()
      expect(transport.client).toBe(nc)
      const health = await transport.health()
      expect(health.status).toBe('up')
      expect(health.detail).toMatch(/nats-server \d+\.\d+/)
      await transport.close()
      expect(nc.isClosed()).toBe(false)
      expect((await transport.health()).status).toBe('down')
      const message = { id: 'x', key: undefined, headers: {}, body: new Uint8Array(0) }
      await expect(transport.publish(`${ns}.closed`, [message])).rejects.toThrow(ClosedError)
      const options = { group: 'g', startAt: 'latest' as const, prefetch: 1 }
      await expect(transport.subscribe(`${ns}.closed`, options)).rejects.toThrow(ClosedError)
    } finally {
      await nc.close()
    }
  })

  it('lifecycle - an unreachable server fails connect with a ConnectionError that says what to check', async () => {
    const transport = natsTransport({ servers: 'nats://127.0.0.1:1', connectTimeoutMs: 500 })
    await expect(transport.connect()).rejects.toThrow(
      /Could not connect to NATS at nats:\/\/127\.0\.0\.1:1: .*NATS_URL/,
    )
  })
})
