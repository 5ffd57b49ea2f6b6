import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect, headers, type NatsConnection } from '@nats-io/transport-node'
import { createEventBus, type EventBus, type EventEnvelope } from '@switchyard/core'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { natsTransport } from '../src/index.js'
import { deleteStreams, NATS_URL, probe, runPrefix } from './nats-server.js'

// The CloudEvents NATS protocol binding, binary mode: attributes as `ce-` headers, values
// percent-encoded, `datacontenttype` as `ce-datacontenttype`; checked with a bare nats.js client.
const prefix = runPrefix('bind')
const skip = await serviceOrSkip('NATS', () => probe(NATS_URL))
const ns = `bind${Math.random().toString(36).slice(2, 8)}`
const buses: EventBus[] = []
let outside: NatsConnection | undefined

function bus(): EventBus {
  const transport = natsTransport({ servers: NATS_URL, autoStreams: { prefix } })
  const created = createEventBus({ transport, source: 'binding-test' })
  buses.push(created)
  return created
}

async function bare(): Promise<NatsConnection> {
  outside ??= await connect({ servers: NATS_URL })
  return outside
}

/** Collects what a group's handler receives. */
async function collect(b: EventBus, topic: string): Promise<EventEnvelope[]> {
  const got: EventEnvelope[] = []
  await b.subscribe(topic, (e) => void got.push(e), { group: 'binding', startAt: 'earliest' })
  return got
}

afterEach(async () => {
  await Promise.allSettled(buses.splice(0).map((b) => b.close({ timeoutMs: 2_000 })))
})
afterAll(async () => {
  await outside?.close()
  if (skip === undefined) await deleteStreams(NATS_URL, prefix)
})

const SUBJECT = 'Euro € 😀 "q" 100%'
const ENCODED = 'Euro%20%E2%82%AC%20%F0%9F%98%80%20%22q%22%20100%25'

describe.skipIf(skip !== undefined)('nats binding', () => {
  it('binding - a bare client finds ce- attributes, percent-encoded, in what the bus published', async () => {
    const topic = `${ns}.out`
    await bus().publish(topic, { type: 'order.created', subject: SUBJECT, data: { n: 1 } })
    const jsm = await jetstreamManager(await bare())
    const stream = await jsm.streams.find(topic)
    const stored = await jsm.streams.getMessage(stream, { last_by_subj: topic })
    const h = stored!.header
    expect(h.get('ce-specversion')).toBe('1.0')
    expect(h.get('ce-type')).toBe('order.created')
    expect(h.get('ce-source')).toBe('binding-test')
    expect(h.get('ce-id')).not.toBe('')
    expect(h.get('ce-subject')).toBe(ENCODED)
    expect(h.get('ce-datacontenttype')).toBe('application/json')
    expect(h.keys().filter((name) => name.startsWith('ce_'))).toEqual([])
    expect(decodeURIComponent(h.get('ce-subject'))).toBe(SUBJECT)
  })

  it('binding - a message a bare client wrote in the binding form reaches the handler decoded', async () => {
    const topic = `${ns}.in`
    const b = bus()
    const got = await collect(b, topic)
    const h = headers()
    h.set('ce-specversion', '1.0')
    h.set('ce-id', 'spec-1')
    h.set('ce-source', '/spec%20client')
    h.set('ce-type', 'greeting')
    h.set('ce-subject', ENCODED)
    h.set('ce-datacontenttype', 'text/plain')
    await jetstream(await bare()).publish(topic, 'hi', { headers: h })
    await waitUntil(() => got.length === 1, { timeoutMs: 10_000, message: 'the spec message' })
    expect(got[0]).toMatchObject({
      id: 'spec-1',
      source: '/spec client',
      type: 'greeting',
      subject: SUBJECT,
      datacontenttype: 'text/plain',
      data: 'hi',
    })
  })

  it('binding - a message in the earlier ce_ form still decodes', async () => {
    const topic = `${ns}.old`
    const b = bus()
    const got = await collect(b, topic)
    const h = headers()
    h.set('ce_specversion', '1.0')
    h.set('ce_id', 'old-1')
    h.set('ce_source', 'old-producer')
    h.set('ce_type', 'legacy')
    h.set('ce_subject', 'Euro € 50%25')
    h.set('content-type', 'application/json')
    await jetstream(await bare()).publish(topic, '{"n":2}', { headers: h })
    await waitUntil(() => got.length === 1, { timeoutMs: 10_000, message: 'the old message' })
    expect(got[0]).toMatchObject({ id: 'old-1', subject: 'Euro € 50%', data: { n: 2 } })
  })

  it('binding - a round trip through the bus keeps every attribute', async () => {
    const topic = `${ns}.trip`
    const b = bus()
    const got = await collect(b, topic)
    await b.publish(topic, {
      type: 'order.created',
      subject: SUBJECT,
      partitionkey: 'ké y',
      extensions: { tenant: 'Zürich 100%' },
      data: 'plain text',
      datacontenttype: 'text/plain; charset=utf-8',
    })
    await waitUntil(() => got.length === 1, { timeoutMs: 10_000, message: 'the round trip' })
    expect(got[0]).toMatchObject({
      subject: SUBJECT,
      partitionkey: 'ké y',
      extensions: { tenant: 'Zürich 100%' },
      data: 'plain text',
      datacontenttype: 'text/plain; charset=utf-8',
    })
  })
})
