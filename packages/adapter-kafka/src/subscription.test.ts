import type { InboundMessage } from '@switchyard/core/transport'
import { describe, expect, it } from 'vitest'
import type { AdminLike, BatchPayload, ConsumerLike } from './client.js'
import { KafkaSubscription } from './subscription.js'

/** A consumer that records what the subscription asks of it and lets the test play kafkajs. */
function fakeConsumer() {
  const listeners = new Map<string, (event: { payload: unknown }) => void>()
  let eachBatch: ((payload: BatchPayload) => Promise<void>) | undefined
  const seeks: string[] = []
  const commits: string[] = []
  const consumer = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    subscribe: async () => undefined,
    run: async (config: { eachBatch: (payload: BatchPayload) => Promise<void> }) => {
      eachBatch = config.eachBatch
    },
    commitOffsets: async (offsets: Array<{ partition: number; offset: string }>) => {
      commits.push(...offsets.map((o) => `${o.partition}@${o.offset}`))
    },
    seek: ({ partition, offset }: { partition: number; offset: string }) =>
      void seeks.push(`${partition}@${offset}`),
    on(event: string, listener: (event: { payload: unknown }) => void) {
      listeners.set(event, listener)
      return () => listeners.delete(event)
    },
    events: { GROUP_JOIN: 'join', REBALANCING: 'rebalancing', CRASH: 'crash' },
  } as unknown as ConsumerLike
  return {
    consumer,
    seeks,
    commits,
    join: (partitions: number[]) =>
      listeners.get('join')!({ payload: { memberAssignment: { orders: partitions } } }),
    /** Hands a batch over as kafkajs does; returns eachBatch's promise. */
    batch(partition: number, offsets: string[], isStale = () => false) {
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
        } as never,
        resolveOffset: () => undefined,
        heartbeat: async () => undefined,
        isRunning: () => true,
        isStale,
      })
    },
  }
}

async function started(
  startPositions?: Map<number, string>,
  committed: () => Record<number, string> = () => ({}),
  ephemeral = false,
) {
  const fake = fakeConsumer()
  const deleted: string[] = []
  // What the group has committed, as fetchOffsets answers it when positioning asks.
  const admin = {
    fetchOffsets: async () => [
      {
        topic: 'orders',
        partitions: Object.entries(committed()).map(([partition, offset]) => ({
          partition: Number(partition),
          offset,
        })),
      },
    ],
    deleteGroups: async (groups: string[]) => void deleted.push(...groups.map((g) => `group ${g}`)),
    deleteTopics: async ({ topics }: { topics: string[] }) =>
      void deleted.push(...topics.map((t) => `topic ${t}`)),
  } as unknown as AdminLike
  const subscription = new KafkaSubscription({
    topic: 'orders',
    groupId: 'g',
    consumer: fake.consumer,
    admin,
    prefetch: 100,
    startPositions,
    commitIntervalMs: 1_000,
    drainMs: 1_000,
    heartbeatIntervalMs: 500,
    ephemeral,
    onClosed: () => undefined,
  })
  await subscription.start(false)
  // launch() runs the consumer in the background.
  await new Promise((resolve) => setImmediate(resolve))
  return { fake, subscription, deleted }
}

/** Opens a `pull`; returns the positions of each answer, as they come. */
function pulling(subscription: KafkaSubscription): string[][] {
  const got: string[][] = []
  subscription.pull(
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
  it('kafka subscription - an open pull is answered inside eachBatch, before it returns', async () => {
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

  it('kafka subscription - the first join seeks the start positions inside the join event, then commits them', async () => {
    const starts = new Map([
      [0, '10'],
      [1, '20'],
    ])
    const { fake, subscription } = await started(starts, () => ({ 0: '-1', 1: '-1' }))
    fake.join([0, 1])
    // Before any await: kafkajs's first fetch, which follows the join event, starts there.
    expect(fake.seeks).toEqual(['0@10', '1@20'])
    await fake.batch(0, ['10'])
    expect(fake.commits).toEqual(['0@10', '1@20'])
    expect(fake.seeks).toEqual(['0@10', '1@20'])
    await subscription.close()
  })

  it('kafka subscription - an offset another member committed meanwhile wins over the early seek', async () => {
    const starts = new Map([
      [0, '10'],
      [1, '20'],
      [2, '30'],
    ])
    const { fake, subscription } = await started(starts, () => ({ 0: '5', 1: '-1', 2: '40' }))
    fake.join([0, 1, 2])
    const got = pulling(subscription)
    // Fetched from the early seek while positioning runs; kafkajs calls it stale once the
    // partition is sought again, and it must not reach a handler.
    const early = fake.batch(2, ['30'], () => fake.seeks.includes('2@40'))
    await fake.batch(1, ['20'])
    await early
    expect(got.flat()).toEqual(['1:20'])
    // Behind the start (0 at 5: nothing skipped) or past it (2 at 40: nothing handled twice).
    expect(fake.seeks).toEqual(['0@10', '1@20', '2@30', '0@5', '2@40'])
    expect(fake.commits).toEqual(['1@20'])
    await subscription.close()
  })

  it('kafka subscription - a later join seeks only partitions the group has not committed', async () => {
    const starts = new Map([
      [0, '10'],
      [1, '20'],
    ])
    let committed: Record<number, string> = { 0: '-1', 1: '-1' }
    const { fake, subscription } = await started(starts, () => committed)
    fake.join([0])
    await fake.batch(0, ['10'])
    expect(fake.seeks).toEqual(['0@10'])
    committed = { 0: '15', 1: '-1' }
    fake.join([0, 1])
    // No seek before the check: partition 0 has moved on since subscribe.
    expect(fake.seeks).toEqual(['0@10'])
    await fake.batch(1, ['20'])
    expect(fake.seeks).toEqual(['0@10', '1@20'])
    expect(fake.commits).toEqual(['0@10', '1@20'])
    await subscription.close()
  })

  it('kafka subscription - aborting an open pull answers it with nothing', async () => {
    const { subscription } = await started()
    const answers: InboundMessage[][] = []
    const abort = new AbortController()
    subscription.pull(
      10,
      abort.signal,
      (messages) => answers.push(messages),
      () => undefined,
    )
    abort.abort()
    expect(answers).toEqual([[]])
    // A later pull on the same (aborted) signal is answered at once, and only once.
    subscription.pull(
      10,
      abort.signal,
      (messages) => answers.push(messages),
      () => undefined,
    )
    expect(answers).toEqual([[], []])
    await subscription.close()
  })

  it('kafka subscription - a nack puts the record back at the front at once, with attempt + 1', async () => {
    const { fake, subscription } = await started()
    fake.join([0])
    await new Promise((resolve) => setImmediate(resolve))
    const got: InboundMessage[][] = []
    const pull = () =>
      subscription.pull(
        10,
        new AbortController().signal,
        (messages) => got.push(messages),
        () => undefined,
      )
    pull()
    await fake.batch(0, ['1', '2'])
    const [first, second] = got[0]!
    await first!.nack({ delayMs: 0, attempt: 1 })
    pull()
    expect(got[1]!.map((m) => [m.position, m.attempt])).toEqual([['0:1', 2]])
    await second!.ack()
    await subscription.close()
  })

  it('kafka subscription - an ephemeral subscription deletes its group and topic on close', async () => {
    const { subscription, deleted } = await started(undefined, undefined, true)
    await subscription.close()
    expect(deleted).toEqual(['group g', 'topic orders'])
  })
})
