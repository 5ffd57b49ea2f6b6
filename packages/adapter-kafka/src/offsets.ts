import type { TransactionalOutput } from '@switchyard/core/transport'

/** One fetched record's place in its partition's commit order. */
export interface Entry {
  /** Kafka offsets are int64; a number is exact up to 2^53, far beyond any real partition. */
  readonly offset: number
  /** `waiting` in the buffer or running (a retry delay included), `done` when settled. */
  state: 'waiting' | 'done'
  /** Exactly-once: what its handler published, stored once every record before it is done. */
  outputs?: readonly TransactionalOutput[] | undefined
}

/**
 * Tracks the records of one partition in fetch order and yields the offset that may be
 * committed: one past the highest offset below which every record was handled or
 * dead-lettered. With concurrency and per-key lanes records finish out of order; a record
 * still running (or waiting out a retry delay) or never started holds the mark back, so a crash
 * or rebalance redelivers it and everything after it, never skips it.
 */
export class PartitionTracker {
  private entries: Entry[] = []
  private head = 0
  private mark: number | undefined
  private committed: number | undefined
  /** The first offset tracked: where this generation started reading the partition. */
  private base: number | undefined
  /** Outputs of records behind the mark, in offset order, not yet taken by a transaction. */
  private released: TransactionalOutput[] = []

  /** Starts tracking a record; records must be added in offset order. */
  add(offset: string): Entry {
    const entry: Entry = { offset: Number(offset), state: 'waiting' }
    this.base ??= entry.offset
    this.entries.push(entry)
    return entry
  }

  /** Marks a record handled and moves the commit mark over every finished record at the front. */
  done(entry: Entry, outputs?: readonly TransactionalOutput[]): void {
    entry.state = 'done'
    entry.outputs = outputs
    while (this.head < this.entries.length && this.entries[this.head]!.state === 'done') {
      const front = this.entries[this.head]!
      this.mark = front.offset + 1
      if (front.outputs !== undefined) this.released.push(...front.outputs)
      this.head++
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head)
      this.head = 0
    }
  }

  /** Records tracked and not yet behind the mark. */
  get outstanding(): number {
    return this.entries.length - this.head
  }

  /** The offset to commit when it moved since the last `committedAt`, else undefined. */
  pendingCommit(): string | undefined {
    if (this.mark === undefined || this.mark === this.committed) return undefined
    return this.mark.toString()
  }

  /** Exactly-once: the outputs released since the last call, in offset order. */
  takeOutputs(): TransactionalOutput[] {
    const outputs = this.released
    if (outputs.length > 0) this.released = []
    return outputs
  }

  /** Where reading must start again to redo everything not committed, if anything was read. */
  resumeAt(): string | undefined {
    return (this.committed ?? this.base)?.toString()
  }

  /** Records that `offset` was committed. */
  committedAt(offset: string): void {
    const value = Number(offset)
    if (this.committed === undefined || value > this.committed) this.committed = value
  }
}

/** Commits what the trackers allow, at most once per interval and one request at a time. */
export class Committer {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private again = false

  constructor(
    private readonly trackers: () => Iterable<[number, PartitionTracker]>,
    private readonly commit: (
      offsets: Array<{ partition: number; offset: string }>,
    ) => Promise<void>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Something was settled: commit within the interval. */
  schedule(): void {
    if (this.timer !== undefined) return
    if (this.running !== undefined) {
      this.again = true
      return
    }
    // `commitIntervalMs`: one commit request per interval, not one per settled record.
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.flush()
    }, this.intervalMs)
  }

  /** Commits now (after any commit in flight) and resolves when done; never rejects. */
  async flush(): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    while (this.running !== undefined) await this.running
    const offsets: Array<{ partition: number; offset: string; tracker: PartitionTracker }> = []
    for (const [partition, tracker] of this.trackers()) {
      const offset = tracker.pendingCommit()
      if (offset !== undefined) offsets.push({ partition, offset, tracker })
    }
    if (offsets.length === 0) return
    this.running = this.commit(offsets.map(({ partition, offset }) => ({ partition, offset })))
      .then(() => {
        for (const { offset, tracker } of offsets) tracker.committedAt(offset)
      })
      .catch((error: unknown) => this.onError(error))
      .finally(() => {
        this.running = undefined
        if (this.again) {
          this.again = false
          this.schedule()
        }
      })
    await this.running
  }

  /** Stops the timer; a commit in flight still finishes. */
  stop(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.again = false
  }
}
