// NATS JetStream: the bus beside @moleculer/channels (NATS adapter) in the same run, 1 KB events.
// Publish with 256 in flight; consume of a filled stream tuned and with defaults, every event
// checked handled exactly once; latency at 1 000 events/s (p50/p90/p99), the two taking turns.
// Reads SWITCHYARD_NATS_URL (default nats://127.0.0.1:4222).
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { natsTransport } from '@switchyard/adapter-nats'
import { createEventBus } from '@switchyard/core'
import { data, latencyRecorder, ledger, peerBroker, peerRows, windowed } from './common.mjs'

const url = process.env.SWITCHYARD_NATS_URL ?? 'nats://127.0.0.1:4222'
const run = Math.random().toString(36).slice(2, 8)
// Our streams (autoStreams prefix) and the peer's (named after the channel, dots as `_`).
const prefix = `SYPEER_${run}_`
const peerStreams = `sypeer_${run}_`
let topics = 0
const nextTopic = (label) => `bench.${run}.${label}.${++topics}`
const nextChannel = (label) => `sypeer.${run}.${label}.${++topics}`
// The consume settings the adapter's README benches with.
const TUNED = { concurrency: 64, prefetch: 1_000 }

const bus = () =>
  createEventBus({
    transport: natsTransport({ servers: url, autoStreams: { prefix } }),
    source: 'bench',
  })
const natsPeer = () => peerBroker({ type: 'NATS', options: { nats: { url } } })

const ours = {
  async publish(count, window) {
    const producer = bus()
    await producer.connect()
    const topic = nextTopic('publish')
    // The stream is created on first publish: outside the clock, as the peer creates none.
    await producer.publish(topic, { type: 'warmup', data })
    const rate = await windowed(count, window, () =>
      producer.publish(topic, { type: 'employee.created', data }),
    )
    await producer.close()
    return rate
  },
  async consume(count, tuned) {
    const topic = nextTopic('consume')
    const producer = bus()
    await windowed(count, 1_000, (seq) =>
      producer.publish(topic, { type: 'employee.created', data: { ...data, seq } }),
    )
    await producer.close()
    const consumer = bus()
    await consumer.connect()
    const seen = ledger(count, `nats consume, ours ${tuned ? 'tuned' : 'defaults'}`)
    const options = { group: 'bench', startAt: 'earliest', ...(tuned ? TUNED : {}) }
    await consumer.subscribe(topic, (event) => seen.handle(event.data.seq), options)
    await seen.done
    await seen.check()
    await consumer.close()
    return seen.rate
  },
  async latency() {
    const topic = nextTopic('latency')
    const producer = bus()
    const consumer = bus()
    const recorder = latencyRecorder()
    await consumer.subscribe(topic, (event) => recorder.record(event.data), TUNED)
    await producer.connect()
    let seq = 0
    return {
      ...recorder,
      send: (sentAt) =>
        producer.publish(topic, {
          type: 'employee.created',
          data: { ...data, sentAt, seq: seq++ },
        }),
      close: () => Promise.all([producer.close(), consumer.close()]),
    }
  },
}

/** A channel's stream exists once a consumer subscribed: the peer creates it there, not on send. */
async function peerStream(jsm, channel) {
  await jsm.streams.add({ name: channel.split('.').join('_'), subjects: [channel] })
}

const peer = (jsm) => ({
  async publish(count, window) {
    const channel = nextChannel('publish')
    await peerStream(jsm, channel)
    const broker = natsPeer()
    await broker.start()
    const rate = await windowed(count, window, () => broker.sendToChannel(channel, data))
    await broker.stop()
    return rate
  },
  async consume(count, tuned) {
    const channel = nextChannel('consume')
    await peerStream(jsm, channel)
    const producer = natsPeer()
    await producer.start()
    await windowed(count, 1_000, (seq) => producer.sendToChannel(channel, { ...data, seq }))
    await producer.stop()
    const seen = ledger(count, `nats consume, peer ${tuned ? 'tuned' : 'defaults'}`)
    const consumer = natsPeer()
    consumer.createService({
      name: 'bench',
      channels: {
        [channel]: {
          group: 'bench',
          // The stream is filled before the consumer exists: read it from the start.
          nats: { consumerOptions: { config: { deliver_policy: 'all' } } },
          ...(tuned ? { maxInFlight: 100 } : {}),
          handler: (payload) => seen.handle(payload.seq),
        },
      },
    })
    await consumer.start()
    await seen.done
    await seen.check()
    await consumer.stop()
    return seen.rate
  },
  async latency() {
    const channel = nextChannel('latency')
    const producer = natsPeer()
    const consumer = natsPeer()
    const recorder = latencyRecorder()
    consumer.createService({
      name: 'bench',
      channels: {
        [channel]: { group: 'bench', maxInFlight: 100, handler: (p) => recorder.record(p) },
      },
    })
    await consumer.start()
    await producer.start()
    let seq = 0
    return {
      ...recorder,
      send: (sentAt) => producer.sendToChannel(channel, { ...data, sentAt, seq: seq++ }),
      close: () => Promise.all([producer.stop(), consumer.stop()]),
    }
  },
})

async function cleanup(jsm) {
  const names = []
  for await (const name of jsm.streams.names())
    if (name.startsWith(prefix) || name.startsWith(peerStreams)) names.push(name)
  await Promise.all(names.map((name) => jsm.streams.delete(name)))
}

export default async function bench({ report, quick }) {
  let nc
  let jsm
  try {
    nc = await connect({ servers: url, timeout: 2_000, reconnect: false })
    jsm = await jetstreamManager(nc)
  } catch (error) {
    console.log(`  skipped: NATS with JetStream is not reachable at ${url} (${error.message})`)
    await nc?.close()
    return
  }
  try {
    const labels = { tuned: 'ours concurrency 64 prefetch 1000, peer maxInFlight 100' }
    await peerRows({ report, quick, broker: 'nats', sides: { ours, peer: peer(jsm) }, labels })
  } finally {
    await cleanup(jsm)
    await nc.close()
  }
}
