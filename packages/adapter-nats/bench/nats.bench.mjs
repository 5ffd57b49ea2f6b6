// NATS JetStream through the bus, beside raw nats.js doing the same work in the same run:
// publish (async JetStream publishes awaiting their acks, the same window in flight), consume
// (pull consumer, batches of 1 000, one ack per message, headers read and data parsed) and
// end-to-end latency at fixed loads. 1 KB events. Publish and consume also report the client's
// CPU time per event (user + system, `process.cpuUsage`) on both sides. Reads SWITCHYARD_NATS_URL
// (default nats://127.0.0.1:4222).
import { randomUUID } from 'node:crypto'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect, headers } from '@nats-io/transport-node'
import { natsTransport } from '@switchyard/adapter-nats'
import { createEventBus } from '@switchyard/core'
import {
  bestOfRounds,
  collected,
  cpuPerEvent,
  cpuRow as cpuRowOf,
  firstToLast,
  inTurns,
  now,
  summary,
  windowed,
} from '../../../tooling/bench/pacing.mjs'

const url = process.env.SWITCHYARD_NATS_URL ?? 'nats://127.0.0.1:4222'
const run = Math.random().toString(36).slice(2, 8)
const prefix = `SYBENCH_${run}_`
const data = { employee_id: 'emp_123', note: 'x'.repeat(1_000 - 40) }
const encoder = new TextEncoder()
let topics = 0
const nextTopic = (label) => `bench.${run}.${label}.${++topics}`

// The message a CloudEvents producer sends for one event: what the bus sends, built by hand.
function rawMessage(payload = data) {
  const h = headers()
  const id = randomUUID()
  h.set('ce-specversion', '1.0')
  h.set('ce-id', id)
  h.set('ce-source', 'bench')
  h.set('ce-type', 'employee.created')
  h.set('ce-time', new Date().toISOString())
  h.set('ce-datacontenttype', 'application/json')
  return { id, headers: h, body: encoder.encode(JSON.stringify(payload)) }
}

/** A row of client CPU per event, ours beside raw nats.js (µs). */
const cpuRow = (scenario, cpu) =>
  cpuRowOf({
    scenario,
    ours: cpu.ours,
    other: cpu.raw,
    rawLabel: 'raw nats.js doing the same CloudEvents work, as above',
    target: '<= 1.5x raw',
  })

const bus = (source) =>
  createEventBus({ transport: natsTransport({ servers: url, autoStreams: { prefix } }), source })

async function createStream(jsm, topic) {
  await jsm.streams.add({ name: `${prefix}${topics}_raw`, subjects: [topic] })
}

async function busPublish(count, window, cpu) {
  const producer = bus('bench')
  await producer.connect()
  const topic = nextTopic('publish')
  await producer.publish(topic, { type: 'warmup', data })
  const rate = await cpuPerEvent(cpu, count, () =>
    windowed(count, window, () => producer.publish(topic, { type: 'employee.created', data })),
  )
  await producer.close()
  return rate
}

async function rawPublish(js, jsm, count, window, cpu) {
  const topic = nextTopic('publish-raw')
  await createStream(jsm, topic)
  return cpuPerEvent(cpu, count, () =>
    windowed(count, window, () => {
      const m = rawMessage()
      return js.publish(topic, m.body, { headers: m.headers, msgID: m.id })
    }),
  )
}

async function fill(js, topic, count) {
  for (let sent = 0; sent < count; sent += 1_000) {
    const calls = []
    for (let i = 0; i < 1_000; i++) {
      const m = rawMessage()
      calls.push(js.publish(topic, m.body, { headers: m.headers, msgID: m.id }))
    }
    await Promise.all(calls)
  }
}

async function busConsume(js, count, cpu) {
  const topic = nextTopic('consume')
  const filler = bus('bench')
  await filler.publish(topic, { type: 'first', data })
  await filler.close()
  await fill(js, topic, count - 1)
  const consumer = bus('bench')
  // Connected beforehand, as the raw side's consumer is created before its clock starts.
  await consumer.connect()
  // From the first event handled to the last, on both sides: creating the durable consumer is
  // setup (the raw side creates its consumer before its clock starts, too).
  const clock = firstToLast(count)
  await cpuPerEvent(cpu, count, async () => {
    await consumer.subscribe(topic, () => clock.tick(), {
      group: 'bench',
      startAt: 'earliest',
      concurrency: 64,
      prefetch: 1_000,
    })
    await clock.done
  })
  const rate = clock.rate
  await consumer.close()
  return rate
}

async function rawConsume(js, jsm, count, cpu) {
  const topic = nextTopic('consume-raw')
  await createStream(jsm, topic)
  await fill(js, topic, count)
  const stream = await jsm.streams.find(topic)
  await jsm.consumers.add(stream, {
    durable_name: 'bench',
    ack_policy: 'explicit',
    deliver_policy: 'all',
    filter_subject: topic,
  })
  const consumer = await js.consumers.get(stream, 'bench')
  let handled = 0
  let first = 0
  globalThis.gc?.()
  const cpuStart = process.cpuUsage()
  const messages = await consumer.consume({ max_messages: 1_000 })
  for await (const m of messages) {
    // Same work as a CloudEvents handler receiving events: the ce-* headers are read and the
    // data is parsed.
    const attributes = {}
    for (const [name, values] of m.headers) attributes[name] = values[0]
    JSON.parse(m.string())
    m.ack()
    if (handled === 0) first = performance.now()
    if (++handled === count) break
  }
  const rate = (count - 1) / ((performance.now() - first) / 1_000)
  const used = process.cpuUsage(cpuStart)
  cpu.push((used.user + used.system) / count)
  await messages.close()
  return rate
}

/** Length of one latency turn, as in the Kafka bench. */
const LATENCY_TURN_SECONDS = 0.02

/**
 * End-to-end latency (publish call -> handler) at a fixed rate, ours and raw in alternating
 * turns of 20 ms (`inTurns`), so load from the rest of the machine hits both alike.
 */
async function latency(js, jsm, rate, seconds) {
  const rawTopic = nextTopic('latency-raw')
  await createStream(jsm, rawTopic)
  const stream = await jsm.streams.find(rawTopic)
  await jsm.consumers.add(stream, {
    durable_name: 'bench',
    ack_policy: 'explicit',
    deliver_policy: 'new',
    filter_subject: rawTopic,
  })
  const raw = []
  const messages = await (await js.consumers.get(stream, 'bench')).consume({ max_messages: 1_000 })
  const reading = (async () => {
    for await (const m of messages) {
      raw.push(now() - JSON.parse(m.string()).sentAt)
      m.ack()
    }
  })()
  const topic = nextTopic('latency')
  const producer = bus('bench')
  const consumer = bus('bench')
  const ours = []
  await consumer.subscribe(topic, (event) => void ours.push(now() - event.data.sentAt), {
    group: 'bench',
    concurrency: 16,
  })
  await producer.connect()
  const total = await inTurns(
    rate,
    seconds,
    [
      (sentAt) => {
        const m = rawMessage({ ...data, sentAt })
        return js.publish(rawTopic, m.body, { headers: m.headers, msgID: m.id })
      },
      (sentAt) => producer.publish(topic, { type: 'employee.created', data: { ...data, sentAt } }),
    ],
    LATENCY_TURN_SECONDS,
  )
  await collected([raw, ours], total)
  await messages.close()
  await reading
  await Promise.all([producer.close(), consumer.close()])
  return { raw: summary(raw), ours: summary(ours) }
}

async function cleanup(jsm) {
  const names = []
  for await (const name of jsm.streams.names()) if (name.startsWith(prefix)) names.push(name)
  await Promise.all(names.map((name) => jsm.streams.delete(name)))
}

export default async function bench({ report, quick }) {
  let nc
  let jsm
  try {
    // The same connection settings the transport uses (no per-request stack capture).
    nc = await connect({ servers: url, timeout: 2_000, reconnect: false, noAsyncTraces: true })
    jsm = await jetstreamManager(nc)
  } catch (error) {
    console.log(
      `  skipped: NATS with JetStream is not reachable at ${url} (${error.message}); run tooling/services/nats.sh`,
    )
    await nc?.close()
    return
  }
  const js = jetstream(nc)
  try {
    const count = quick ? 10_000 : 20_000
    const rounds = quick ? 2 : 5
    for (const window of [1, 256]) {
      const n = window === 1 ? count / 10 : count
      const cpu = { raw: [], ours: [] }
      const { raw, ours } = await bestOfRounds(rounds, {
        raw: () => rawPublish(js, jsm, n, window, cpu.raw),
        ours: () => busPublish(n, window, cpu.ours),
      })
      report({
        scenario: `nats publish, 1 KB events, ${window} in flight (acked)`,
        unit: 'events/s',
        ours,
        raw,
        rawLabel: `nats.js js.publish with Nats-Msg-Id, ${window} awaiting acks`,
        higherIsBetter: true,
        target: '>= 0.9x raw',
      })
      report(cpuRow(`nats publish client CPU per event, 1 KB events, ${window} in flight`, cpu))
    }
    const cpu = { raw: [], ours: [] }
    const { raw, ours } = await bestOfRounds(rounds, {
      raw: () => rawConsume(js, jsm, count, cpu.raw),
      ours: () => busConsume(js, count, cpu.ours),
    })
    report({
      scenario: 'nats consume, 1 KB events',
      unit: 'events/s',
      ours,
      raw,
      rawLabel:
        'nats.js pull consume, batches of 1 000, ack per message + ce-* headers + JSON.parse',
      higherIsBetter: true,
      target: '>= 0.9x raw',
    })
    report(cpuRow('nats consume client CPU per event, 1 KB events', cpu))
    for (const rate of [500, 2_000]) {
      // 30 s per side: at 12 s the p99 ratio swung 0.75x-1.96x over ten runs of the same code,
      // at 30 s it read 0.90x-1.44x over five (60 s: 0.92x and 1.09x).
      const seconds = quick ? 2 : 30
      const { raw: rawLat, ours: ourLat } = await latency(js, jsm, rate, seconds)
      const label = `nats.js js.publish at ${rate}/s -> pull consume + ack`
      report({
        scenario: `nats end-to-end latency p50 at ${rate} events/s`,
        unit: 'ms',
        ours: ourLat.p50,
        raw: rawLat.p50,
        rawLabel: label,
        higherIsBetter: false,
        target: '<= raw + 0.2 ms',
      })
      report({
        scenario: `nats end-to-end latency p99 at ${rate} events/s`,
        unit: 'ms',
        ours: ourLat.p99,
        raw: rawLat.p99,
        rawLabel: label,
        higherIsBetter: false,
        target: '<= 1.5x raw',
      })
    }
  } finally {
    await cleanup(jsm)
    await nc.close()
  }
}
