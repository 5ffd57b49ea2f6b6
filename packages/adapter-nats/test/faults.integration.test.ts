import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect, headers } from '@nats-io/transport-node'
import { createEventBus, type EventBus } from '@switchyard/core'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { natsTransport } from '../src/index.js'
import { deleteStreams, NATS_URL, PrivateServer, probe, runPrefix } from './nats-server.js'

const prefix = runPrefix('fault')
const skip = await serviceOrSkip('NATS', () => probe(NATS_URL))
// The restart test needs a nats-server binary of its own to stop and start.
let server: PrivateServer | undefined
const privateSkip = await serviceOrSkip('a private nats-server', async () => {
  server = await PrivateServer.start()
})
const buses: EventBus[] = []
const run = Math.random().toString(36).slice(2, 8)
let n = 0
const topicName = (label: string) => `fault.${label}.${run}${++n}`

function privateServer(): PrivateServer {
  if (server === undefined) throw new Error('the private nats-server did not start')
  return server
}

function bus(options: Parameters<typeof natsTransport>[0] = {}): EventBus {
  const transport = natsTransport({ servers: NATS_URL, autoStreams: { prefix }, ...options })
  const created = createEventBus({ transport, source: 'fault-test' })
  buses.push(created)
  return created
}

afterEach(async () => {
  await Promise.allSettled(buses.splice(0).map((b) => b.close({ timeoutMs: 2_000 })))
})
afterAll(async () => {
  if (skip === undefined) await deleteStreams(NATS_URL, prefix)
  await server?.dispose()
})

describe.skipIf(skip !== undefined)('nats faults - shared server', () => {
  it('kill - a consumer process killed with SIGKILL mid-handler: its events are redelivered after ack_wait', async () => {
    const topic = topicName('kill')
    const group = 'workers'
    const ackWaitMs = 1_500
    // The doomed consumer is a real process on this transport, killed while its handlers run.
    const child = spawn(
      process.execPath,
      [
        '--conditions=@switchyard/source',
        '--import',
        '@switchyard/config/ts-child',
        fileURLToPath(new URL('./fixtures/consumer.ts', import.meta.url)),
        NATS_URL,
        prefix,
        topic,
        group,
        String(ackWaitMs),
      ],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let output = ''
    const startedAt = new Map<string, number>()
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      for (const [, id] of chunk.toString().matchAll(/handling (\S+)/gu)) {
        if (!startedAt.has(id!)) startedAt.set(id!, Date.now())
      }
    })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    try {
      await waitUntil(() => output.includes('subscribed'), {
        timeoutMs: 20_000,
        message: 'the child to subscribe',
      })
      const sent = await bus().publishBatch(
        topic,
        Array.from({ length: 20 }, (_, i) => ({ type: 'fault.kill', data: { i } })),
      )
      await waitUntil(() => startedAt.size >= 5, {
        timeoutMs: 10_000,
        message: '5 handlers running in the child',
      })
      child.kill('SIGKILL')
      await exited
      const killedAt = Date.now()
      const inChild = new Set(startedAt.keys())
      const got = new Map<string, { attempt: number; at: number }>()
      await bus({ ackWaitMs }).subscribe(
        topic,
        (event, ctx) => {
          if (!got.has(event.id)) got.set(event.id, { attempt: ctx.attempt, at: Date.now() })
        },
        { group, concurrency: 4 },
      )
      await waitUntil(() => got.size >= 20, {
        timeoutMs: 15_000,
        message: 'all 20 events handled by the survivor',
        describe: () => `${got.size} handled`,
      })
      expect(new Set(got.keys())).toEqual(new Set(sent.map((e) => e.id)))
      // What the dead process was handling comes back as a second delivery, once ack_wait ran out.
      for (const id of inChild) {
        const delivery = got.get(id)!
        expect(delivery.attempt).toBeGreaterThanOrEqual(2)
        // Not before the ack wait ran out (counted from the first delivery), and not long after.
        expect(delivery.at - startedAt.get(id)!).toBeGreaterThanOrEqual(ackWaitMs - 100)
        expect(delivery.at - killedAt).toBeLessThan(ackWaitMs + 3_000)
      }
    } finally {
      child.kill('SIGKILL')
    }
  })

  it('raw message - no headers, not JSON: dead-lettered with a reason, the consumer goes on', async () => {
    const topic = topicName('raw')
    const consumer = bus()
    const good: string[] = []
    await consumer.subscribe(topic, (event) => void good.push(event.id), { group: 'raw' })
    const nc = await connect({ servers: NATS_URL })
    try {
      // A bare nats.js client, as `nats pub` would send it: no CloudEvents headers at all.
      await jetstream(nc).publish(topic, new TextEncoder().encode('<xml>not json</xml>'))
    } finally {
      await nc.close()
    }
    const after = await consumer.publish(topic, { type: 'fault.after', data: { ok: true } })
    await waitUntil(() => good.includes(after.id), { timeoutMs: 10_000, message: 'the next event' })
    let entries: Awaited<ReturnType<EventBus['deadLetters']['list']>> = []
    await waitUntil(
      async () => {
        entries = await consumer.deadLetters.list(`${topic}.dlq`)
        return entries.length >= 1
      },
      { timeoutMs: 10_000, message: 'the dead letter' },
    )
    expect(entries).toHaveLength(1)
    const entry = entries[0]!
    expect(entry.error.name).toBe('DecodeError')
    expect(entry.reason).toMatch(/could not decode/)
    expect(entry.attempts).toBe(1)
    expect(entry.topic).toBe(topic)
    expect(entry.group).toBe('raw')
    expect(entry.position).toMatch(/:1$/)
    expect(Buffer.from(entry.message.body, 'base64').toString()).toBe('<xml>not json</xml>')
    expect(good).toEqual([after.id])
  })

  it('raw message - an event published without ce_time gets the time the stream stored it', async () => {
    const topic = topicName('untimed')
    const consumer = bus()
    const times: string[] = []
    await consumer.subscribe(topic, (event) => void times.push(event.time), { group: 'untimed' })
    const nc = await connect({ servers: NATS_URL })
    let stored: string
    try {
      const attributes = headers()
      for (const [name, value] of Object.entries({
        'ce-specversion': '1.0',
        'ce-id': 'u-1',
        'ce-source': 'nats-cli',
        'ce-type': 'fault.untimed',
      }))
        attributes.set(name, value)
      const ack = await jetstream(nc).publish(topic, '{}', { headers: attributes })
      const message = await (await jetstreamManager(nc)).streams.getMessage(ack.stream, {
        seq: ack.seq,
      })
      stored = message!.time.toISOString()
    } finally {
      await nc.close()
    }
    await waitUntil(() => times.length >= 1, { timeoutMs: 10_000, message: 'the untimed event' })
    expect(times).toEqual([stored])
  })

  it('dedup - a publish retried with the same event id is stored once', async () => {
    const topic = topicName('dedup')
    const producer = bus()
    const seen: string[] = []
    await bus().subscribe(topic, (event) => void seen.push(event.id), { group: 'dedup' })
    const first = await producer.publish(topic, { id: 'order-42', type: 'fault.dedup', data: {} })
    // The retry a service makes after a timeout: same id, sent again (twice, for good measure).
    await producer.publish(topic, { id: 'order-42', type: 'fault.dedup', data: {} })
    const encoded = { id: 'order-42', key: undefined, headers: {}, body: new Uint8Array([1]) }
    await producer.transport.publish(topic, [encoded])
    const marker = await producer.publish(topic, { type: 'fault.marker', data: {} })
    await waitUntil(() => seen.includes(marker.id), { timeoutMs: 10_000, message: 'the marker' })
    expect(seen).toEqual([first.id, marker.id])
    const nc = await connect({ servers: NATS_URL })
    try {
      const jsm = await jetstreamManager(nc)
      const stream = await jsm.streams.find(topic)
      expect((await jsm.streams.info(stream)).state.messages).toBe(2)
    } finally {
      await nc.close()
    }
  })
})

describe.skipIf(privateSkip !== undefined)('nats faults - private server', () => {
  it('restart - nats-server killed and restarted twice mid-stream of 10 000 events, none lost', async () => {
    const server = privateServer()
    try {
      const make = () =>
        createEventBus({
          transport: natsTransport({ servers: server.url, ackWaitMs: 5_000 }),
          source: 'fault-restart',
        })
      const producer = make()
      const consumer = make()
      buses.push(producer, consumer)
      const topic = topicName('restart')
      const seen = new Set<string>()
      let deliveries = 0
      await consumer.subscribe(
        topic,
        (event) => {
          deliveries++
          seen.add(event.id)
        },
        { group: 'restart', concurrency: 16, prefetch: 256 },
      )
      const ids: string[] = []
      const publishing = (async () => {
        for (let batch = 0; batch < 50; batch++) {
          const events = Array.from({ length: 200 }, (_, i) => ({
            id: `${topic}-${batch}-${i}`,
            type: 'fault.restart',
            data: { batch, i },
          }))
          // The adapter retries through the outage itself (publishTimeoutMs); no loop needed here.
          await producer.publishBatch(topic, events)
          ids.push(...events.map((e) => e.id))
        }
      })()
      await waitUntil(() => seen.size >= 2_500, { timeoutMs: 30_000, message: '2 500 events' })
      await server.restart('SIGKILL')
      await waitUntil(() => seen.size >= 6_000, { timeoutMs: 30_000, message: '6 000 events' })
      await server.restart('SIGTERM')
      await publishing
      await waitUntil(() => seen.size >= 10_000, {
        timeoutMs: 60_000,
        message: '10 000 events after two restarts',
        describe: () => `${seen.size} seen`,
      })
      expect(seen).toEqual(new Set(ids))
      console.info(
        `[nats faults] restart: 10000 events, 0 lost, ${deliveries - seen.size} redelivered`,
      )
    } finally {
      await Promise.allSettled(buses.splice(0).map((b) => b.close({ timeoutMs: 2_000 })))
    }
  })
})
