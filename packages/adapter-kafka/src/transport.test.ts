import { ClosedError } from '@switchyard/core/transport'
import { Partitioners } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import type { KafkaClientLike } from './options.js'
import { kafkaTransport } from './transport.js'

/** A protocol answer as kafkajs raises it. */
function protocolError(type: string): Error {
  return Object.assign(new Error(`broker said ${type}`), { name: 'KafkaJSProtocolError', type })
}

/** A client whose producers fail their first send with `firstError`, recording every send. */
function fakeClient(firstError: Error) {
  const producers: Array<{ sends: number; connected: boolean; disconnected: boolean }> = []
  const requests: Array<Array<{ key: unknown; partition?: number }>> = []
  let failed = false
  const client = {
    producer() {
      const state = { sends: 0, connected: false, disconnected: false }
      producers.push(state)
      return {
        connect: async () => {
          state.connected = true
        },
        disconnect: async () => {
          state.disconnected = true
        },
        sendBatch: async (request: { topicMessages: Array<{ messages: [] }> }) => {
          requests.push(request.topicMessages.flatMap((t) => t.messages))
          state.sends++
          if (!failed) {
            failed = true
            throw firstError
          }
          return []
        },
      }
    },
    admin() {
      return {
        connect: async () => undefined,
        disconnect: async () => undefined,
        createTopics: async () => true,
        fetchTopicMetadata: async ({ topics }: { topics: string[] }) => ({
          topics: topics.map((name) => ({
            name,
            partitions: [0, 1, 2].map((partitionId) => ({ partitionId, leader: 1 })),
          })),
        }),
      }
    },
  }
  return { client: client as unknown as KafkaClientLike, producers, requests }
}

const message = { id: '1', key: undefined, headers: { ce_id: '1' }, body: Buffer.from('{}') }

describe('kafka transport - publish', () => {
  it('publish - a failed request is sent once and rejects with a retryable PublishError; the bus retries', async () => {
    const { client, producers } = fakeClient(protocolError('REQUEST_TIMED_OUT'))
    const transport = kafkaTransport({ client })
    await expect(transport.publish('orders', [message])).rejects.toMatchObject({
      name: 'PublishError',
      retryable: true,
    })
    expect(producers).toEqual([{ sends: 1, connected: true, disconnected: false }])
    await transport.publish('orders', [message])
    expect(producers).toEqual([{ sends: 2, connected: true, disconnected: false }])
    await transport.close()
  })

  it('publish - a refusal (record too large) is a PublishError that is not retryable', async () => {
    const { client } = fakeClient(protocolError('MESSAGE_TOO_LARGE'))
    const transport = kafkaTransport({ client })
    await expect(transport.publish('orders', [message])).rejects.toMatchObject({
      name: 'PublishError',
      retryable: false,
    })
    await transport.close()
  })

  it('close - publish and subscribe on a closed transport throw ClosedError', async () => {
    const { client } = fakeClient(protocolError('REQUEST_TIMED_OUT'))
    const transport = kafkaTransport({ client })
    await transport.close()
    await expect(transport.publish('orders', [message])).rejects.toBeInstanceOf(ClosedError)
    await expect(
      transport.subscribe('orders', { group: 'g', startAt: 'latest', prefetch: 1 }),
    ).rejects.toBeInstanceOf(ClosedError)
  })
})

describe('kafka transport - replies', () => {
  it('temporary - a reply to a missing inbox is refused (not retryable) and creates no topic', async () => {
    const { client } = fakeClient(protocolError('REQUEST_TIMED_OUT'))
    const created: string[] = []
    const admin = (client as unknown as { admin(): Record<string, unknown> }).admin
    ;(client as unknown as { admin: () => unknown }).admin = () => ({
      ...admin(),
      createTopics: async ({ topics }: { topics: Array<{ topic: string }> }) => {
        created.push(...topics.map((t) => t.topic))
        return true
      },
      fetchTopicMetadata: async () => {
        throw protocolError('UNKNOWN_TOPIC_OR_PARTITION')
      },
    })
    const transport = kafkaTransport({ client })
    const reply = transport.publish('inbox.gone', [message], { temporary: true })
    await expect(reply).rejects.toMatchObject({ name: 'PublishError', retryable: false })
    expect(created).toEqual([])
    await transport.close()
  })
})

describe('kafka transport - partitions', () => {
  it('partitions - keyless records go round robin, keyed ones where the Java-compatible partitioner puts them', async () => {
    const { client, requests } = fakeClient(protocolError('REQUEST_TIMED_OUT'))
    const transport = kafkaTransport({ client })
    const keyless = Array.from({ length: 6 }, (_, i) => ({ ...message, id: `${i}` }))
    const keyed = { ...message, id: 'k', key: 'order-1' }
    await transport.publish('orders', [message]).catch(() => undefined)
    await transport.publish('orders', [...keyless, keyed])
    const sent = requests[1]!
    const spread = sent.filter((r) => r.key === null).map((r) => r.partition)
    // Consecutive partitions from a random start, each of the three used twice.
    expect(spread.slice(1).map((p, i) => (p! - spread[i]! + 3) % 3)).toEqual([1, 1, 1, 1, 1])
    const javaCompatible = Partitioners.DefaultPartitioner()({
      topic: 'orders',
      partitionMetadata: [0, 1, 2].map((partitionId) => ({ partitionId, leader: 0 })) as never,
      message: { key: 'order-1', value: null },
    })
    expect(sent.find((r) => r.key === 'order-1')?.partition).toBe(javaCompatible)
    await transport.close()
  })
})

describe('kafka transport - compression', () => {
  it('compression - a codec kafkajs cannot use fails at construction naming the option', () => {
    let thrown: unknown
    try {
      kafkaTransport({ compression: 'snappy' })
    } catch (error) {
      thrown = error
    }
    expect(thrown).toMatchObject({ name: 'ConfigurationError', field: 'compression' })
    expect((thrown as Error).message).toContain('CompressionCodecs')
  })

  it('compression - gzip is built in', async () => {
    const transport = kafkaTransport({ compression: 'gzip', brokers: '127.0.0.1:1' })
    await transport.close()
  })
})

describe('kafka transport - flush', () => {
  it('flush - waits for a publish that is still creating its topic', async () => {
    const { client } = fakeClient(protocolError('REQUEST_TIMED_OUT'))
    let release!: () => void
    const created = new Promise<void>((resolve) => {
      release = resolve
    })
    const admin = (client as unknown as { admin(): Record<string, unknown> }).admin
    ;(client as unknown as { admin: () => unknown }).admin = () => ({
      ...admin(),
      createTopics: async () => {
        await created
        return true
      },
    })
    const transport = kafkaTransport({ client })
    const publishing = transport.publish('slow.topic', [message]).catch(() => undefined)
    let flushed = false
    const flushing = transport.flush().then(() => {
      flushed = true
    })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(flushed).toBe(false)
    release()
    await publishing
    await flushing
    expect(flushed).toBe(true)
    await transport.close()
  })
})
