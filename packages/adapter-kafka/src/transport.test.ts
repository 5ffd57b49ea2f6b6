import { Partitioners } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import type { KafkaClientLike } from './client.js'
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

describe('kafka transport - producer state', () => {
  it('producer - an out-of-order sequence answer replaces the producer and sends again', async () => {
    const { client, producers } = fakeClient(protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER'))
    const transport = kafkaTransport({ client })
    await transport.publish('orders', [message])
    expect(producers).toHaveLength(2)
    expect(producers[0]).toEqual({ sends: 1, connected: true, disconnected: true })
    expect(producers[1]).toEqual({ sends: 1, connected: true, disconnected: false })
    await transport.close()
  })

  it('producer - a failed send reaches the caller as a PublishError; the next goes out on a new producer id', async () => {
    // The broker may have stored the failed request; kafkajs would give the next request its
    // sequence numbers, and the broker would drop that one as a duplicate.
    const { client, producers } = fakeClient(protocolError('REQUEST_TIMED_OUT'))
    const transport = kafkaTransport({ client })
    await expect(transport.publish('orders', [message])).rejects.toMatchObject({
      name: 'PublishError',
      retryable: true,
    })
    await transport.publish('orders', [message])
    expect(producers).toHaveLength(2)
    expect(producers[0]).toEqual({ sends: 1, connected: true, disconnected: true })
    expect(producers[1]).toEqual({ sends: 1, connected: true, disconnected: false })
    await transport.publish('orders', [message])
    expect(producers).toHaveLength(2) // a send that succeeded keeps its producer
    await transport.close()
  })
})

describe('kafka transport - partitions', () => {
  it('partitions - keyless records get fixed partitions, round robin, kept when a request is sent again', async () => {
    const { client, requests } = fakeClient(protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER'))
    const transport = kafkaTransport({ client })
    const keyless = Array.from({ length: 6 }, (_, i) => ({ ...message, id: `${i}` }))
    const keyed = { ...message, id: 'k', key: 'order-1' }
    await transport.publish('orders', [...keyless, keyed])
    expect(requests).toHaveLength(2)
    const [first, again] = requests
    const spread = first!.filter((r) => r.key === null).map((r) => r.partition)
    // Consecutive partitions from a random start, each of the three used twice.
    expect(spread.slice(1).map((p, i) => (p! - spread[i]! + 3) % 3)).toEqual([1, 1, 1, 1, 1])
    // A keyed record goes where kafkajs's Java-compatible partitioner puts that key.
    const javaCompatible = Partitioners.DefaultPartitioner()({
      topic: 'orders',
      partitionMetadata: [0, 1, 2].map((partitionId) => ({ partitionId, leader: 0 })) as never,
      message: { key: 'order-1', value: null },
    })
    expect(first!.find((r) => r.key === 'order-1')?.partition).toBe(javaCompatible)
    expect(again!.map((r) => r.partition)).toEqual(first!.map((r) => r.partition))
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
