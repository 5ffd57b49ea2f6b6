import { describe, expect, it } from 'vitest'
import type { RecordOut } from './client.js'
import { recordSize } from './mapping.js'
import { PublishBatcher, type SendBatch } from './publisher.js'

const record = (n: number, bytes = 100): RecordOut => ({
  key: null,
  value: Buffer.alloc(bytes, n % 256),
  headers: { ce_id: String(n) },
})

/** A sender that answers when told to, recording what each request held. */
function gate() {
  const requests: Array<Array<{ topic: string; ids: string[] }>> = []
  const pending: Array<(error?: Error) => void> = []
  const send: SendBatch = (topicMessages) => {
    requests.push(
      topicMessages.map((t) => ({ topic: t.topic, ids: t.messages.map((m) => m.headers.ce_id!) })),
    )
    return new Promise<void>((resolve, reject) => pending.push((e) => (e ? reject(e) : resolve())))
  }
  const answer = async (error?: Error) => {
    pending.shift()?.(error)
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { send, requests, answer }
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

describe('PublishBatcher', () => {
  it('sizing - batchSize counts per partition: spread records share a request, one partition splits', async () => {
    const { send, requests, answer } = gate()
    const batcher = new PublishBatcher(send, { lingerMs: 0, batchSize: 1_000 })
    const on = (n: number, partition: number) => ({ ...record(n, 250), partition })
    // Six records of about 280 bytes over three partitions: under 1 000 bytes per partition.
    const spread = batcher.publish(
      't',
      [0, 1, 2, 3, 4, 5].map((n) => on(n, n % 3)),
    )
    await tick()
    expect(requests).toEqual([[{ topic: 't', ids: ['0', '1', '2', '3', '4', '5'] }]])
    await answer()
    await spread
    // The same six on one partition: three fit, the rest goes in the next request.
    const one = batcher.publish(
      't',
      [0, 1, 2, 3, 4, 5].map((n) => on(n, 0)),
    )
    await tick()
    await answer()
    await tick()
    await answer()
    await one
    expect(requests.slice(1)).toEqual([
      [{ topic: 't', ids: ['0', '1', '2'] }],
      [{ topic: 't', ids: ['3', '4', '5'] }],
    ])
  })

  it('sizing - many small publishes: one partition holding batchSize bytes sends without lingering', async () => {
    const { send, requests, answer } = gate()
    // A long linger: only a partition holding batchSize bytes makes the batcher send early.
    const batcher = new PublishBatcher(send, { lingerMs: 60_000, batchSize: 1_000 })
    const on = (n: number) => ({ ...record(n, 250), partition: n % 3 })
    const done = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((n) => batcher.publish('t', [on(n)]))
    await tick()
    // About 2 500 bytes wait, past batchSize, but no partition holds 1 000: still lingering.
    expect(requests).toHaveLength(0)
    done.push(batcher.publish('t', [on(9)]))
    await tick()
    // Partition 0 now holds four records (about 1 100 bytes): the three that fit leave at once.
    expect(requests).toEqual([[{ topic: 't', ids: ['0', '1', '2', '3', '4', '5', '6', '7', '8'] }]])
    done.push(batcher.publish('t', [on(10)]), batcher.publish('t', [on(11)]))
    await answer()
    // Queued while the first was in flight, they leave as soon as it is answered.
    expect(requests[1]).toEqual([{ topic: 't', ids: ['9', '10', '11'] }])
    await answer()
    await Promise.all(done)
    expect(batcher.pending).toBe(0)
  })

  it('merging - publishes made in one turn go out as one request, in order', async () => {
    const { send, requests, answer } = gate()
    const batcher = new PublishBatcher(send, { lingerMs: 0, batchSize: 1_000_000 })
    const done = [1, 2, 3].map((n) => batcher.publish('t', [record(n)]))
    await tick()
    expect(requests).toEqual([[{ topic: 't', ids: ['1', '2', '3'] }]])
    await answer()
    await Promise.all(done)
  })

  it('merging - what arrives while a request is in flight leaves together in the next one', async () => {
    const { send, requests, answer } = gate()
    const batcher = new PublishBatcher(send, { lingerMs: 0, batchSize: 1_000_000 })
    const first = batcher.publish('a', [record(1)])
    await tick()
    const later = [
      batcher.publish('a', [record(2)]),
      batcher.publish('b', [record(3)]),
      batcher.publish('a', [record(4)]),
    ]
    await tick()
    expect(requests).toHaveLength(1)
    await answer()
    await first
    expect(requests[1]).toEqual([
      { topic: 'a', ids: ['2', '4'] },
      { topic: 'b', ids: ['3'] },
    ])
    await answer()
    await Promise.all(later)
  })

  it('merging - a burst of single publishes shares parts, and each request still fills its partition', async () => {
    const { send, requests, answer } = gate()
    const batcher = new PublishBatcher(send, { lingerMs: 60_000, batchSize: 8_000 })
    const first = [{ ...record(0), partition: 0 }]
    const done = [batcher.publish('t', first)]
    for (let n = 1; n < 200; n++) done.push(batcher.publish('t', [{ ...record(n), partition: 0 }]))
    // The records a caller passed are not appended to.
    expect(first).toHaveLength(1)
    const flushed = batcher.flush()
    while (requests.length === 0 || batcher.pending > 0) await answer()
    await Promise.all([...done, flushed])
    const ids = requests.map((r) => r[0]!.ids)
    expect(ids.flat()).toEqual(Array.from({ length: 200 }, (_, n) => String(n)))
    // Parts are at most an eighth of batchSize, so a full request is short of it by less.
    const size = recordSize({ ...record(0), partition: 0 })
    for (const request of ids.slice(0, -1)) {
      expect(request.length * size).toBeLessThanOrEqual(8_000)
      expect(request.length * size).toBeGreaterThan(7_000)
    }
  })

  it('batchSize - a publish larger than batchSize is split and resolves when every piece is confirmed', async () => {
    const { send, requests, answer } = gate()
    const batcher = new PublishBatcher(send, { lingerMs: 0, batchSize: 1_000 })
    let resolved = false
    const done = batcher
      .publish(
        't',
        Array.from({ length: 20 }, (_, n) => record(n, 200)),
      )
      .then(() => {
        resolved = true
      })
    await tick()
    while (requests.length < 5 || !resolved) {
      await answer()
      if (requests.length > 10) break
    }
    await done
    expect(requests.flatMap((r) => r[0]!.ids)).toEqual(
      Array.from({ length: 20 }, (_, n) => String(n)),
    )
    expect(requests.every((r) => r[0]!.ids.length <= 4)).toBe(true)
  })

  it('failures - every publish of a failed request rejects; later ones still go', async () => {
    const { send, answer } = gate()
    const batcher = new PublishBatcher(send, { lingerMs: 0, batchSize: 1_000_000 })
    const failing = [batcher.publish('t', [record(1)]), batcher.publish('t', [record(2)])]
    const checks = failing.map((publish) => expect(publish).rejects.toThrow('broker away'))
    await tick()
    await answer(new Error('broker away'))
    await Promise.all(checks)
    const next = batcher.publish('t', [record(3)])
    await tick()
    await answer()
    await expect(next).resolves.toBeUndefined()
  })

  it('lingerMs - waits for more publishes, flush sends at once', async () => {
    const { send, requests, answer } = gate()
    const batcher = new PublishBatcher(send, { lingerMs: 60_000, batchSize: 1_000_000 })
    const publish = batcher.publish('t', [record(1)])
    await tick()
    expect(requests).toHaveLength(0)
    const flushed = batcher.flush()
    await tick()
    expect(requests).toHaveLength(1)
    await answer()
    await Promise.all([publish, flushed])
    expect(batcher.pending).toBe(0)
  })
})
