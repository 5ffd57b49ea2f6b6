import { describe, expect, it } from 'vitest'
import { Committer, PartitionTracker } from './offsets.js'

describe('PartitionTracker', () => {
  it('commit mark - moves only over records handled in a row from the front', () => {
    const tracker = new PartitionTracker()
    const [a, b, c] = ['10', '11', '12'].map((o) => tracker.add(o))
    tracker.done(b!)
    tracker.done(c!)
    expect(tracker.pendingCommit()).toBeUndefined()
    tracker.done(a!)
    expect(tracker.pendingCommit()).toBe('13')
    expect(tracker.outstanding).toBe(0)
  })

  it('commit mark - a record still running holds the mark back until it is handled', () => {
    const tracker = new PartitionTracker()
    const entries = ['0', '1', '2', '3'].map((o) => tracker.add(o))
    for (const i of [0, 2, 3]) tracker.done(entries[i]!)
    expect(tracker.pendingCommit()).toBe('1')
    tracker.done(entries[1]!)
    expect(tracker.pendingCommit()).toBe('4')
  })

  it('commit mark - offsets with gaps (compaction, transaction markers) commit past the last one', () => {
    const tracker = new PartitionTracker()
    const first = tracker.add('5')
    const second = tracker.add('9')
    tracker.done(first)
    tracker.done(second)
    expect(tracker.pendingCommit()).toBe('10')
    tracker.committedAt('10')
    expect(tracker.pendingCommit()).toBeUndefined()
  })
})

describe('Committer', () => {
  it('commits - one request for all partitions whose mark moved, nothing when none did', async () => {
    const trackers = new Map([0, 1, 2].map((p) => [p, new PartitionTracker()]))
    trackers.get(0)!.done(trackers.get(0)!.add('0'))
    trackers.get(2)!.done(trackers.get(2)!.add('7'))
    const calls: Array<Array<{ partition: number; offset: string }>> = []
    const committer = new Committer(
      () => trackers,
      async (offsets) => void calls.push(offsets),
      50,
      (error) => {
        throw error
      },
    )
    await committer.flush()
    await committer.flush()
    expect(calls).toEqual([
      [
        { partition: 0, offset: '1' },
        { partition: 2, offset: '8' },
      ],
    ])
  })

  it('commits - a failed commit is reported and retried by the next flush', async () => {
    const tracker = new PartitionTracker()
    tracker.done(tracker.add('3'))
    const errors: unknown[] = []
    let fail = true
    const committed: string[] = []
    const committer = new Committer(
      () => [[0, tracker]],
      async (offsets) => {
        if (fail) throw new Error('coordinator moved')
        committed.push(offsets[0]!.offset)
      },
      50,
      (error) => errors.push(error),
    )
    await committer.flush()
    fail = false
    await committer.flush()
    expect(errors).toHaveLength(1)
    expect(committed).toEqual(['4'])
  })
})
