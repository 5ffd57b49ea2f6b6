import type { InboundMessage } from '@switchyard/core/transport'
import { describe, expect, it } from 'vitest'
import type { AdminLike, BatchPayload, ConsumerLike } from './client.js'
import { KafkaSubscription } from './subscription.js'

/** A consumer that records what the subscription asks of it and lets the test play kafkajs. */
function fakeConsumer() {
  const listeners = new Map<string, (event: { payload: unknown }) => void>()
  let eachBatch: ((payload: BatchPayload) => Promise<void>) | undefined
  const consumer: ConsumerLike = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    subscribe: async () => undefined,
    run: async (config) => {
      eachBatch = config.eachBatch
    },
    commitOffsets: async () => undefined,
    seek: () => undefined,
    on(event, listener) {
      listeners.set(event, listener)
      return () => listeners.delete(event)
    },
    events: { GROUP_JOIN: 'join', REBALANCING: 'rebalancing', CRASH: 'crash' },
  }
  return {
    consumer,
    join: (partitions: number[]) =>
      listeners.get('join')!({ payload: { memberAssignment: { orders: partitions } } }),
    /** Hands a batch over as kafkajs does; returns eachBatch's promise. */
    batch(partition: number, offsets: string[]) {
      return eachBatch!({
        batch: {
          topic: 'orders',
          partition,
          messages: offsets.map((offset) => ({
            key: null,
            value: Buffer.from('{}'),
            offset,
            timestamp: '0',
            headers: {},
          })),
        },
        resolveOffset: () => undefined,
        heartbeat: async () => undefined,
        isRunning: () => true,
        isStale: () => false,
      })
    },
  }
}

async function started() {
  const fake = fakeConsumer()
  const subscription = new KafkaSubscription({
    topic: 'orders',
    groupId: 'g',
    consumer: fake.consumer,
    admin: {} as AdminLike,
    prefetch: 100,
    startPositions: undefined,
    commitIntervalMs: 1_000,
    drainMs: 1_000,
    heartbeatIntervalMs: 500,
    onClosed: () => undefined,
  })
  await subscription.start(false)
  // launch() runs the consumer in the background.
  await new Promise((resolve) => setImmediate(resolve))
  return { fake, subscription }
}

/** Opens a `pullNow`; returns the positions of each answer, as they come. */
function pulling(subscription: KafkaSubscription): string[][] {
  const got: string[][] = []
  subscription.pullNow(
    10,
    new AbortController().signal,
    (messages) => got.push(messages.map((m: InboundMessage) => m.position!)),
    (error) => {
      throw error
    },
  )
  return got
}

describe('KafkaSubscription', () => {
  it('kafka subscription - an open pullNow is answered inside eachBatch, before it returns', async () => {
    const { fake, subscription } = await started()
    fake.join([0])
    // Positioning after the join has nothing to do here; it settles within a few microtasks.
    await new Promise((resolve) => setImmediate(resolve))
    const got = pulling(subscription)
    expect(got).toEqual([])
    const handing = fake.batch(0, ['5', '6'])
    expect(got).toEqual([['0:5', '0:6']])
    await handing
    await subscription.close()
  })

  it('kafka subscription - a batch that arrives while positioning runs waits for it', async () => {
    const { fake, subscription } = await started()
    fake.join([0])
    const got = pulling(subscription)
    const handing = fake.batch(0, ['1'])
    expect(got).toEqual([])
    await handing
    expect(got).toEqual([['0:1']])
    await subscription.close()
  })

  it('kafka subscription - aborting an open pullNow answers it with nothing', async () => {
    const { subscription } = await started()
    const answers: InboundMessage[][] = []
    const abort = new AbortController()
    subscription.pullNow(
      10,
      abort.signal,
      (messages) => answers.push(messages),
      () => undefined,
    )
    abort.abort()
    expect(answers).toEqual([[]])
    // A later pull on the same (aborted) signal is answered at once, and only once.
    subscription.pullNow(
      10,
      abort.signal,
      (messages) => answers.push(messages),
      () => undefined,
    )
    expect(answers).toEqual([[], []])
    await subscription.close()
  })
})
