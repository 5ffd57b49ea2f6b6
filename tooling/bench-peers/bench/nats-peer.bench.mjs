// NATS JetStream: the bus beside @moleculer/channels (NATS adapter) in the same run, 1 KB events.
// Publish with 256 in flight; consume of a filled stream tuned and with defaults, every event
// checked handled exactly once; latency at 1 000 events/s (p50/p90/p99), the two taking turns.
// Reads SWITCHYARD_NATS_URL (default nats://127.0.0.1:4222).
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { natsTransport } from '@switchyard/adapter-nats'
import { createEventBus } from '@switchyard/core'
import { peerBroker, peerRows } from './common.mjs'
import { busSide, peerSide } from './sides.mjs'

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

const ours = busSide({ broker: 'nats', bus, nextTopic, tuned: TUNED })

/** A channel's stream exists once a consumer subscribed: the peer creates it there, not on send. */
async function peerStream(jsm, channel) {
  await jsm.streams.add({ name: channel.split('.').join('_'), subjects: [channel] })
}

const peer = (jsm) =>
  peerSide({
    broker: 'nats',
    makePeer: natsPeer,
    nextChannel,
    // The stream is filled before the consumer exists: read it from the start.
    fromStart: { nats: { consumerOptions: { config: { deliver_policy: 'all' } } } },
    prepare: (channel) => peerStream(jsm, channel),
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
