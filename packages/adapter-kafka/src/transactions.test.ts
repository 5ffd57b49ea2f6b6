import type { OutboundMessage, TransactionalOutput } from '@switchyard/core/transport'
import { describe, expect, it } from 'vitest'
import type { TransactionalProducerLike } from './client.js'
import { PartitionTracker } from './offsets.js'
import { TransactionalCommitter, TransactionalProducers } from './transactions.js'

const out = (topic: string, id: string): TransactionalOutput => ({
  topic,
  messages: [{ id, key: undefined, headers: {}, body: new Uint8Array() } as OutboundMessage],
})

/** Producers that log each transaction's steps; `failNext` makes the next commit throw. */
function fakeProducers() {
  const log: string[] = []
  const ids: string[] = []
  const state = { failNext: false, disconnected: 0 }
  const make = (id: string): TransactionalProducerLike => {
    ids.push(id)
    return {
      async connect() {},
      async disconnect() {
        state.disconnected++
      },
      async transaction() {
        return {
          async sendBatch({ topicMessages }) {
            for (const { topic, messages } of topicMessages)
              log.push(`send ${topic} ${messages.map((m) => m.value).join(',')}`)
          },
          async sendOffsets({ topics }) {
            log.push(`offset ${topics[0]!.partitions[0]!.offset}`)
          },
          async commit() {
            if (state.failNext) {
              state.failNext = false
              throw new Error('fenced')
            }
            log.push('commit')
          },
          async abort() {
            log.push('abort')
          },
        }
      },
    }
  }
  return { log, ids, state, producers: new TransactionalProducers(make, 'switchyard.g.t.') }
}

describe('exactly-once commits', () => {
  it('releases outputs in offset order, only once every earlier record is done', () => {
    const tracker = new PartitionTracker()
    const a = tracker.add('10')
    const b = tracker.add('11')
    tracker.done(b, [out('x', 'b')])
    expect(tracker.takeOutputs()).toEqual([])
    expect(tracker.pendingCommit()).toBeUndefined()
    tracker.done(a, [out('x', 'a')])
    expect(tracker.takeOutputs().map((o) => o.messages[0]!.id)).toEqual(['a', 'b'])
    expect(tracker.pendingCommit()).toBe('12')
    expect(tracker.resumeAt()).toBe('10')
    tracker.committedAt('12')
    expect(tracker.resumeAt()).toBe('12')
  })

  it('commits outputs and the offset in one transaction per partition, with a producer named after it; a failure aborts, drops the producer and reports', async () => {
    const fake = fakeProducers()
    const tracker = new PartitionTracker()
    const failures: unknown[] = []
    const committer = new TransactionalCommitter(() => new Map([[2, tracker]]), {
      topic: 't',
      groupId: 'g',
      producers: fake.producers,
      records: async (outputs) =>
        outputs.map(({ topic, messages }) => ({
          topic,
          messages: messages.map((m) => ({ key: null, value: m.id, headers: {} })),
        })),
      failed: (error) => failures.push(error),
    })
    tracker.done(tracker.add('5'), [out('results', 'r5')])
    tracker.done(tracker.add('6'), [out('results', 'r6')])
    await committer.flush()
    expect(fake.ids).toEqual(['switchyard.g.t.2'])
    expect(fake.log).toEqual(['abort', 'send results r5', 'send results r6', 'offset 7', 'commit'])
    fake.log.length = 0
    fake.state.failNext = true
    tracker.done(tracker.add('7'), [out('results', 'r7')])
    committer.schedule(2)
    await committer.flush()
    expect(fake.log).toEqual(['send results r7', 'offset 8', 'abort'])
    expect(failures).toHaveLength(1)
    expect(tracker.resumeAt()).toBe('7')
    // Stopped after a failure: the subscription rewinds with a new committer.
    tracker.done(tracker.add('8'))
    committer.schedule(2)
    await committer.flush()
    expect(fake.log).toEqual(['send results r7', 'offset 8', 'abort'])
    expect(fake.state.disconnected).toBe(1)
  })
})
