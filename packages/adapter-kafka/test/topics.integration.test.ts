import { createEventBus } from '@switchyard/core'
import { serviceOrSkip } from '@switchyard/testkit'
import { ConfigResourceTypes } from 'kafkajs'
import { afterAll, describe, expect, it } from 'vitest'
import { kafkaTransport } from '../src/index.js'
import { BROKERS, FAST, probe, rawClient } from './helpers.js'

const skip = await serviceOrSkip('Kafka', () => probe())
const run = Math.random().toString(36).slice(2, 8)

describe.skipIf(skip)('kafka topics', () => {
  const bus = createEventBus({
    transport: kafkaTransport({ brokers: BROKERS, ...FAST }),
    source: 'topics-test',
  })
  const admin = rawClient().admin()
  afterAll(async () => {
    await bus.close()
    await admin.disconnect()
  })

  async function configs(topic: string) {
    const { resources } = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
      includeSynonyms: false,
    })
    return Object.fromEntries(resources[0]!.configEntries.map((c) => [c.configName, c.configValue]))
  }

  it('topics - createTopic creates the topic with its partitions, retention, compression and cleanup policy', async () => {
    const topic = `sy.topics.${run}.orders`
    const result = await bus.createTopic(topic, {
      partitions: 4,
      retentionMs: 3_600_000,
      compression: 'gzip',
      cleanupPolicy: 'compact',
    })
    expect(result).toEqual({
      topic,
      created: true,
      applied: ['partitions', 'retentionMs', 'compression', 'cleanupPolicy'],
      ignored: [],
    })
    await admin.connect()
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] })
    expect(topics[0]!.partitions).toHaveLength(4)
    const found = await configs(topic)
    expect(found['retention.ms']).toBe('3600000')
    expect(found['compression.type']).toBe('gzip')
    expect(found['cleanup.policy']).toBe('compact')
    // The topic is usable at once, with its own partition count.
    await bus.publish(topic, { type: 'order.placed', partitionkey: 'o1', data: { id: 'o1' } })
  })

  it('topics - an existing topic keeps its settings and is reported as not created', async () => {
    const topic = `sy.topics.${run}.existing`
    await bus.createTopic(topic, { retentionMs: 60_000 })
    const again = await bus.createTopic(topic, { retentionMs: 120_000, partitions: 2 })
    expect(again).toEqual({
      topic,
      created: false,
      applied: [],
      ignored: ['retentionMs', 'partitions'],
    })
    await admin.connect()
    expect((await configs(topic))['retention.ms']).toBe('60000')
  })

  it('topics - an invalid setting is refused before anything reaches the broker', async () => {
    await expect(bus.createTopic(`sy.topics.${run}.bad`, { partitions: 0 })).rejects.toThrow(
      /settings.partitions must be at least 1/,
    )
    await expect(
      // @ts-expect-error a compression Kafka does not have
      bus.createTopic(`sy.topics.${run}.bad`, { compression: 'brotli' }),
    ).rejects.toThrow(/settings.compression must be one of none, gzip, snappy, lz4, zstd/)
  })
})
