import { jetstreamManager } from '@nats-io/jetstream'
import { connect, nanos } from '@nats-io/transport-node'
import { createEventBus } from '@switchyard/core'
import { serviceOrSkip } from '@switchyard/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { natsTransport } from '../src/index.js'
import { deleteStreams, NATS_URL, probe, runPrefix } from './nats-server.js'

const skip = await serviceOrSkip('NATS', () => probe(NATS_URL))
const prefix = runPrefix('topics')

describe.skipIf(skip)('nats topics', () => {
  const bus = createEventBus({
    transport: natsTransport({ servers: NATS_URL, autoStreams: { prefix } }),
    source: 'topics-test',
  })
  afterAll(async () => {
    await bus.close()
    await deleteStreams(NATS_URL, prefix)
  })

  async function streamConfig(topic: string) {
    const nc = await connect({ servers: NATS_URL })
    try {
      const jsm = await jetstreamManager(nc)
      const name = await jsm.streams.find(topic)
      return (await jsm.streams.info(name)).config
    } finally {
      await nc.close()
    }
  }

  /** Stream compression needs nats-server 2.10; an older server reports it ignored. */
  async function compresses(): Promise<boolean> {
    const nc = await connect({ servers: NATS_URL })
    const [major = 0, minor = 0] = (nc.info?.version ?? '0.0').split('.').map(Number)
    await nc.close()
    return major > 2 || (major === 2 && minor >= 10)
  }

  it('topics - createTopic creates the stream with max_age (and S2 compression on 2.10+); Kafka-only settings are reported ignored', async () => {
    const s2 = await compresses()
    const topic = `${prefix.toLowerCase()}orders`
    const result = await bus.createTopic(topic, {
      retentionMs: 3_600_000,
      compression: 'zstd',
      partitions: 3,
      cleanupPolicy: 'delete',
    })
    expect(result).toEqual({
      topic,
      created: true,
      applied: s2 ? ['retentionMs', 'compression'] : ['retentionMs'],
      ignored: s2
        ? ['partitions', 'cleanupPolicy']
        : ['compression', 'partitions', 'cleanupPolicy'],
    })
    const config = await streamConfig(topic)
    expect(config.max_age).toBe(nanos(3_600_000))
    expect(config.compression).toBe(s2 ? 's2' : undefined)
    // The stream serves the topic: a publish lands in it.
    await bus.publish(topic, { type: 'order.placed', data: { id: 'o1' } })
  })

  it('topics - a topic whose stream exists keeps its settings and is reported as not created', async () => {
    const topic = `${prefix.toLowerCase()}existing`
    await bus.createTopic(topic, { retentionMs: 60_000 })
    const again = await bus.createTopic(topic, { retentionMs: 120_000 })
    expect(again).toEqual({ topic, created: false, applied: [], ignored: ['retentionMs'] })
    expect((await streamConfig(topic)).max_age).toBe(nanos(60_000))
  })
})
