// The two sides every peer bench runs, written once: the bus (`busSide`) and @moleculer/channels
// (`peerSide`). A bench file passes what differs per broker: how to make a bus or a peer broker,
// topic names, the consume settings, and what a filled stream needs to be read from its start.
import { cpuPerEvent, data, latencyRecorder, ledger, windowed } from './common.mjs'

/**
 * Our side: publish with `window` in flight, consume a filled topic (each event checked handled
 * once), and a latency pair. `tuned` are the subscribe options the adapter's README benches with.
 */
export function busSide({ broker, bus, nextTopic, tuned }) {
  return {
    async publish(count, window, cpu) {
      const producer = bus()
      await producer.connect()
      const topic = nextTopic('publish')
      // Where the first publish creates a stream, that happens outside the clock.
      await producer.publish(topic, { type: 'warmup', data })
      const rate = await cpuPerEvent(cpu, count, () =>
        windowed(count, window, () => producer.publish(topic, { type: 'employee.created', data })),
      )
      await producer.close()
      return rate
    },
    async consume(count, isTuned, cpu) {
      const topic = nextTopic('consume')
      const producer = bus()
      await windowed(count, 1_000, (seq) =>
        producer.publish(topic, { type: 'employee.created', data: { ...data, seq } }),
      )
      await producer.close()
      const consumer = bus()
      await consumer.connect()
      const seen = ledger(count, `${broker} consume, ours ${isTuned ? 'tuned' : 'defaults'}`)
      const options = { group: 'bench', startAt: 'earliest', ...(isTuned ? tuned : {}) }
      await cpuPerEvent(cpu, count, async () => {
        await consumer.subscribe(topic, (event) => seen.handle(event.data.seq), options)
        await seen.done
      })
      await seen.check()
      await consumer.close()
      return seen.rate
    },
    async latency() {
      const topic = nextTopic('latency')
      const producer = bus()
      const consumer = bus()
      const recorder = latencyRecorder()
      await consumer.subscribe(topic, (event) => recorder.record(event.data), tuned)
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
}

/**
 * The peer's side, the same work through @moleculer/channels (`maxInFlight: 100` when tuned).
 * `fromStart`: the channel options that read a filled stream from its start; `prepare(channel)`:
 * what must exist before anything is sent to a channel.
 */
export function peerSide({ broker, makePeer, nextChannel, fromStart, prepare = async () => {} }) {
  return {
    async publish(count, window, cpu) {
      const channel = nextChannel('peer-publish')
      await prepare(channel)
      const peer = makePeer()
      await peer.start()
      const rate = await cpuPerEvent(cpu, count, () =>
        windowed(count, window, () => peer.sendToChannel(channel, data)),
      )
      await peer.stop()
      return rate
    },
    async consume(count, isTuned, cpu) {
      const channel = nextChannel('peer-consume')
      await prepare(channel)
      const producer = makePeer()
      await producer.start()
      await windowed(count, 1_000, (seq) => producer.sendToChannel(channel, { ...data, seq }))
      await producer.stop()
      const seen = ledger(count, `${broker} consume, peer ${isTuned ? 'tuned' : 'defaults'}`)
      const consumer = makePeer()
      consumer.createService({
        name: 'bench',
        channels: {
          [channel]: {
            group: 'bench',
            ...fromStart,
            ...(isTuned ? { maxInFlight: 100 } : {}),
            handler: (payload) => seen.handle(payload.seq),
          },
        },
      })
      await cpuPerEvent(cpu, count, async () => {
        await consumer.start()
        await seen.done
      })
      await seen.check()
      await consumer.stop()
      return seen.rate
    },
    async latency() {
      const channel = nextChannel('peer-latency')
      const producer = makePeer()
      const consumer = makePeer()
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
  }
}
