import { type KafkaTransport, kafkaTransport } from '@switchyard/adapter-kafka'
import { type NatsTransport, natsTransport } from '@switchyard/adapter-nats'
import { afterAll, describe, expect, it } from 'vitest'
import {
  call,
  type RunningGateway,
  startGateway,
  transportOrSkip,
  uniqueStream,
} from './support.js'

// Creating a stream creates its broker topic with the stream's settings (APG's streams.yaml).
const BROKERS = process.env.SWITCHYARD_KAFKA_BROKERS ?? '127.0.0.1:9092'
const NATS_URL = process.env.SWITCHYARD_NATS_URL ?? 'nats://127.0.0.1:4222'
const prefix = `SYGT_${Math.random().toString(36).slice(2, 8)}_`
const kafka = () => kafkaTransport({ brokers: BROKERS, logLevel: 'nothing', retries: 3 })
const nats = () => natsTransport({ servers: NATS_URL, autoStreams: { prefix, maxAgeMs: 600_000 } })
const kafkaSkip = await transportOrSkip('Kafka', kafka)
const natsSkip = await transportOrSkip('NATS', nats)

/** The part of kafkajs's admin client these tests read with. */
interface KafkaAdmin {
  connect(): Promise<void>
  disconnect(): Promise<void>
  fetchTopicMetadata(o: { topics: string[] }): Promise<{ topics: { partitions: unknown[] }[] }>
  describeConfigs(o: {
    resources: { type: number; name: string }[]
    includeSynonyms: boolean
  }): Promise<{
    resources: { configEntries: { configName: string; configValue: string }[] }[]
  }>
}

// kafkajs's ConfigResourceTypes.TOPIC.
const TOPIC_RESOURCE = 2

/** The topic's partition count and configs, read through the gateway transport's own client. */
async function kafkaTopic(gw: RunningGateway, topic: string) {
  const admin = (gw.bus.transport as KafkaTransport).client.admin() as KafkaAdmin
  await admin.connect()
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] })
    const { resources } = await admin.describeConfigs({
      resources: [{ type: TOPIC_RESOURCE, name: topic }],
      includeSynonyms: false,
    })
    const configs = resources[0]!.configEntries
    return {
      partitions: topics[0]!.partitions.length,
      config: Object.fromEntries(configs.map((c) => [c.configName, c.configValue])),
    }
  } finally {
    await admin.disconnect()
  }
}

describe.skipIf(kafkaSkip)('gateway stream topics on kafka', () => {
  const declared = uniqueStream('declared')
  let gw: RunningGateway
  afterAll(() => gw?.close())

  it('stream topics - POST /api/v1/streams creates the Kafka topic with partitions, retention, compression and cleanup policy', async () => {
    gw = await startGateway(kafka(), {
      streams: [{ id: declared, partitions: 2, retentionMs: 7_200_000 }],
    })
    const admin = await gw.token({ roles: ['admin'] })
    const id = uniqueStream('orders')
    const created = await call(`${gw.url}/api/v1/streams`, {
      token: admin,
      json: {
        id,
        partitions: 3,
        retention_ms: 3_600_000,
        compression: 'gzip',
        cleanup_policy: 'compact',
      },
    })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    expect(created.body.broker).toEqual({
      created: true,
      applied: ['partitions', 'retentionMs', 'compression', 'cleanupPolicy'],
      ignored: [],
    })
    const topic = await kafkaTopic(gw, id)
    expect(topic.partitions).toBe(3)
    expect(topic.config).toMatchObject({
      'retention.ms': '3600000',
      'compression.type': 'gzip',
      'cleanup.policy': 'compact',
    })
    const again = await call(`${gw.url}/api/v1/streams`, { token: admin, json: { id } })
    expect(again.status).toBe(409)
  })

  it('stream topics - a stream declared at start has its topic once the gateway is ready', async () => {
    const topic = await kafkaTopic(gw, declared)
    expect(topic.partitions).toBe(2)
    expect(topic.config['retention.ms']).toBe('7200000')
  })
})

describe.skipIf(natsSkip)('gateway stream topics on nats', () => {
  let gw: RunningGateway
  // JetStream's API over the gateway transport's own connection.
  async function api(subject: string, body: unknown = {}) {
    const nc = (gw.bus.transport as NatsTransport).client!
    return (await nc.request(`$JS.API.${subject}`, JSON.stringify(body))).json<{
      streams?: string[]
      config?: { max_age: number }
    }>()
  }
  afterAll(async () => {
    const { streams = [] } = await api('STREAM.NAMES')
    for (const name of streams.filter((n) => n.startsWith(prefix))) {
      await api(`STREAM.DELETE.${name}`)
    }
    await gw?.close()
  })

  it('stream topics - POST /api/v1/streams creates the JetStream stream with max_age and reports Kafka-only settings ignored', async () => {
    gw = await startGateway(nats())
    const admin = await gw.token({ roles: ['admin'] })
    const id = uniqueStream('orders')
    const created = await call(`${gw.url}/api/v1/streams`, {
      token: admin,
      json: { id, partitions: 3, retention_ms: 3_600_000, cleanup_policy: 'delete' },
    })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    expect(created.body.broker).toEqual({
      created: true,
      applied: ['retentionMs'],
      ignored: ['partitions', 'cleanupPolicy'],
    })
    const { streams = [] } = await api('STREAM.NAMES', { subject: id })
    expect(streams).toHaveLength(1)
    const info = await api(`STREAM.INFO.${streams[0]}`)
    expect(info.config?.max_age).toBe(3_600_000 * 1_000_000)
  })
})
