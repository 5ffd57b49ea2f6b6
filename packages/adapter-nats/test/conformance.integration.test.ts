import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect, headers, type NatsConnection } from '@nats-io/transport-node'
import { serviceOrSkip, startConsumerProcess, transportConformance } from '@switchyard/testkit'
import { afterAll } from 'vitest'
import { natsTransport } from '../src/index.js'
import { deleteStreams, NATS_URL, PrivateServer, probe, runPrefix } from './nats-server.js'

const prefix = runPrefix('conf')
const skip = await serviceOrSkip('NATS', () => probe(NATS_URL))
// The consumer group's ack wait in the killed-consumer scenario: how soon the survivor gets
// what the killed member held.
const HAND_OVER_MS = 1_500
const make = (ackWaitMs?: number) => () =>
  natsTransport({ servers: NATS_URL, autoStreams: { prefix }, ...(ackWaitMs && { ackWaitMs }) })
let outside: Promise<NatsConnection> | undefined

transportConformance('nats', make(), {
  skip,
  features: natsTransport().features,
  delayToleranceMs: 250,
  // A bare JetStream publish, as another NATS client would write it; the stored time comes back
  // with a direct get.
  injectRaw: async (topic, message) => {
    outside ??= connect({ servers: NATS_URL })
    const nc = await outside
    const h = headers()
    for (const [name, value] of Object.entries(message.headers ?? {})) h.set(name, value)
    if (message.key !== undefined) h.set('switchyard-key', message.key)
    const ack = await jetstream(nc).publish(topic, message.body, { headers: h })
    const stored = await (await jetstreamManager(nc)).streams.getMessage(ack.stream, {
      seq: ack.seq,
    })
    return stored?.time.getTime()
  },
  spawnConsumer: (spec) =>
    startConsumerProcess(new URL('./fixtures/consumer.ts', import.meta.url), spec, {
      args: [NATS_URL, prefix, String(HAND_OVER_MS)],
      execArgv: ['--conditions=@switchyard/source', '--import', '@switchyard/config/ts-child'],
    }),
  survivor: make(HAND_OVER_MS),
  handOverMs: HAND_OVER_MS,
  privateBroker: async () => {
    const server = await PrivateServer.start()
    return {
      make: () => natsTransport({ servers: server.url, ackWaitMs: 5_000 }),
      restart: () => server.restart('SIGKILL'),
      dispose: () => server.dispose(),
      timeoutMs: 60_000,
    }
  },
})

afterAll(async () => {
  await (await outside?.catch(() => undefined))?.close()
  if (skip === undefined) await deleteStreams(NATS_URL, prefix)
})
