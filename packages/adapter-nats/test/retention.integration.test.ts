import {
  createEventBus,
  type EventBus,
  type EventEnvelope,
  MessagesLostError,
  outcome,
  PublishError,
} from '@switchyard/core'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { type NatsTransportOptions, natsTransport } from '../src/index.js'
import { deleteStreams, NATS_URL, probe, runPrefix } from './nats-server.js'

// What a stream's limits do to events no group has settled: by default a full stream refuses
// new messages (the publisher hears of it); dropping the oldest is asked for, and then reported.
const prefix = runPrefix('keep')
const skip = await serviceOrSkip('NATS', () => probe(NATS_URL))
const ns = `keep${Math.random().toString(36).slice(2, 8)}`
const buses: EventBus[] = []

function bus(options: NatsTransportOptions, errors: Error[] = []): EventBus {
  // Short pulls: the retention watch checks once per pull expiry.
  const transport = natsTransport({ servers: NATS_URL, pullExpiresMs: 1_000, ...options })
  const created = createEventBus({
    transport,
    source: 'retention-test',
    hooks: { onError: (error) => void errors.push(error) },
  })
  buses.push(created)
  return created
}

/** Publishes events `from`..`to` one by one; returns the publishes that were refused. */
async function publishRange(b: EventBus, topic: string, from: number, to: number) {
  const refused: unknown[] = []
  for (let n = from; n <= to; n++) {
    await b.publish(topic, { type: 'tick', data: { n } }).catch((error) => refused.push(error))
  }
  return refused
}

const n = (e: EventEnvelope) => (e.data as { n: number }).n
const lost = (errors: Error[]) =>
  errors.filter((e): e is MessagesLostError => e instanceof MessagesLostError)

afterEach(async () => {
  await Promise.allSettled(buses.splice(0).map((b) => b.close({ timeoutMs: 2_000 })))
})
afterAll(async () => {
  if (skip === undefined) await deleteStreams(NATS_URL, prefix)
})

/** A group whose handler asks for a 3 s broker retry of event 0, then 200 more events. */
async function retryThenFlood(discard: 'old' | undefined) {
  const topic = `${ns}.retry${discard ?? ''}`
  const errors: Error[] = []
  const b = bus({ autoStreams: { prefix, maxMsgs: 50, ...(discard && { discard }) } }, errors)
  const handled: Array<[number, number]> = []
  let retried = false
  await b.subscribe(
    topic,
    (e, ctx) => {
      if (n(e) === 0 && ctx.attempt === 1) {
        retried = true
        return outcome.retry({ delayMs: 3_000 })
      }
      handled.push([n(e), ctx.attempt])
    },
    { group: 'keeps-up', startAt: 'earliest' },
  )
  await b.publish(topic, { type: 'tick', data: { n: 0 } })
  await waitUntil(() => retried, { timeoutMs: 10_000, message: 'the retry of event 0' })
  const refused = await publishRange(b, topic, 1, 200)
  return { errors, handled, refused }
}

/** A group that has no member while 80 events arrive, then reads again. */
async function lagThenRead(discard: 'old' | undefined) {
  const topic = `${ns}.lag${discard ?? ''}`
  const errors: Error[] = []
  const options = { autoStreams: { prefix, maxMsgs: 50, ...(discard && { discard }) } }
  const got: number[] = []
  const group = { group: 'lags', startAt: 'earliest' as const }
  // The group's first process leaves (its consumer stays, at the start of the stream).
  const gone = bus(options)
  await gone.subscribe(topic, (e) => void got.push(n(e)), group)
  await gone.close()
  const refused = await publishRange(bus(options), topic, 0, 79)
  await bus(options, errors).subscribe(topic, (e) => void got.push(n(e)), group)
  return { errors, got, refused }
}

describe.skipIf(skip !== undefined)('nats retention', () => {
  it('retention - at maxMsgs a stream refuses publishes by default, and a waiting retry comes back', async () => {
    const { errors, handled, refused } = await retryThenFlood(undefined)
    // Events 0..49 fill the stream; 50..200 are refused, each with a PublishError that says why.
    expect(refused).toHaveLength(151)
    expect(refused[0]).toBeInstanceOf(PublishError)
    expect((refused[0] as Error).message).toMatch(/stream is full/)
    await waitUntil(() => handled.some(([event]) => event === 0), {
      timeoutMs: 15_000,
      message: 'event 0 handled on its retry',
    })
    expect(handled.find(([event]) => event === 0)).toEqual([0, 2])
    expect(lost(errors)).toEqual([])
  })

  it('retention - with discard "old" a retry dropped by the stream is reported as lost', async () => {
    const { errors, refused } = await retryThenFlood('old')
    expect(refused).toEqual([])
    await waitUntil(() => lost(errors).some((e) => e.positions.includes('1')), {
      timeoutMs: 15_000,
      message: 'a MessagesLostError for the retry of event 0 (stream sequence 1)',
    })
    const report = lost(errors).find((e) => e.positions.includes('1'))!
    expect(report.message).toMatch(/waiting for a retry/)
  })

  it('retention - a lagging group loses nothing by default: the publisher is refused instead', async () => {
    const { errors, got, refused } = await lagThenRead(undefined)
    expect(refused).toHaveLength(30)
    expect(refused.every((e) => e instanceof PublishError)).toBe(true)
    await waitUntil(() => got.length === 50, { timeoutMs: 10_000, message: '50 events read' })
    expect(got.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    expect(lost(errors)).toEqual([])
  })

  it('retention - with discard "old" what a lagging group never read is reported as lost', async () => {
    const { errors, got, refused } = await lagThenRead('old')
    expect(refused).toEqual([])
    await waitUntil(() => got.length === 50 && lost(errors).length > 0, {
      timeoutMs: 10_000,
      message: 'events 30..79 read and the loss of 0..29 reported',
    })
    expect(got.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 30))
    const [report] = lost(errors)
    expect(report).toMatchObject({ count: 30, positions: ['1', '30'] })
  })
})
