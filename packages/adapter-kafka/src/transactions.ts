import type { TransactionalOutput } from '@switchyard/core/transport'
import type { AdminLike, ConsumerLike, RecordOut, TransactionalProducerLike } from './client.js'
import type { PartitionTracker } from './offsets.js'

/**
 * One transactional producer per input partition, its transactional id naming the group, topic
 * and partition. Whoever owns the partition next opens a producer with the same id, which fences
 * the previous owner (a paused zombie can no longer commit) and aborts the transaction a killed
 * one left open, so `read_committed` readers downstream are not held up until it times out.
 */
export class TransactionalProducers {
  private readonly producers = new Map<number, Promise<TransactionalProducerLike>>()

  constructor(
    private readonly make: (transactionalId: string) => TransactionalProducerLike,
    private readonly idPrefix: string,
  ) {}

  /** The partition's producer, connected and initialised (which fences the previous owner). */
  get(partition: number): Promise<TransactionalProducerLike> {
    let ready = this.producers.get(partition)
    if (ready === undefined) {
      const producer = this.make(`${this.idPrefix}${partition}`)
      ready = (async () => {
        await producer.connect()
        // kafkajs initialises the producer id with the first transaction; an empty one sends
        // nothing else.
        await (await producer.transaction()).abort()
        return producer
      })()
      ready.catch(() => this.discard(partition))
      this.producers.set(partition, ready)
    }
    return ready
  }

  /** Drops the partition's producer (after a failed transaction, or when the partition moved). */
  discard(partition: number): void {
    const ready = this.producers.get(partition)
    this.producers.delete(partition)
    void ready?.then((p) => p.disconnect()).catch(() => undefined)
  }

  /** Keeps producers of `partitions` only, and opens the missing ones ahead of the first commit. */
  assign(partitions: readonly number[]): void {
    for (const partition of [...this.producers.keys()])
      if (!partitions.includes(partition)) this.discard(partition)
    for (const partition of partitions) void this.get(partition).catch(() => undefined)
  }

  /** Disconnects every producer. */
  async close(): Promise<void> {
    const all = [...this.producers.values()]
    this.producers.clear()
    await Promise.allSettled(all.map((ready) => ready.then((p) => p.disconnect())))
  }
}

/** What the transactional committer needs from its subscription and transport. */
export interface TransactionsInit {
  topic: string
  groupId: string
  producers: TransactionalProducers
  /** Kafka records of the outputs per topic, their topics created and partitions chosen. */
  records(outputs: TransactionalOutput[]): Promise<Array<{ topic: string; messages: RecordOut[] }>>
  /** A transaction failed and was aborted: what it carried must be read and handled again. */
  failed(error: unknown): void
}

/**
 * Exactly-once commits. Per input partition, the outputs of the records behind the commit mark
 * and the mark itself go into one Kafka transaction of that partition's producer, so either all
 * of them are stored or none. One transaction per partition at a time; whatever settles
 * meanwhile goes into the next one (group commit), so a busy partition pays one transaction per
 * round trip, not per record. The same surface as `Committer`, which the subscription swaps.
 */
export class TransactionalCommitter {
  private readonly running = new Map<number, Promise<void>>()
  private stopped = false

  constructor(
    private readonly trackers: () => Map<number, PartitionTracker>,
    private readonly init: TransactionsInit,
  ) {}

  /** Something settled on `partition` (every partition when left out): commit it now. */
  schedule(partition?: number): void {
    if (this.stopped) return
    if (partition === undefined) {
      for (const p of this.trackers().keys()) this.schedule(p)
      return
    }
    const tracker = this.trackers().get(partition)
    if (tracker === undefined || this.running.has(partition)) return
    if (tracker.pendingCommit() === undefined) return
    const run = this.drain(partition, tracker).finally(() => this.running.delete(partition))
    this.running.set(partition, run)
  }

  /** Commits everything settled so far; resolves once no transaction runs. Never rejects. */
  async flush(): Promise<void> {
    this.schedule()
    while (this.running.size > 0) await Promise.all(this.running.values())
  }

  /** Starts no more transactions; one in flight still finishes. */
  stop(): void {
    this.stopped = true
  }

  private async drain(partition: number, tracker: PartitionTracker): Promise<void> {
    for (;;) {
      const offset = tracker.pendingCommit()
      if (offset === undefined || this.stopped) return
      try {
        await this.commit(partition, offset, tracker.takeOutputs())
      } catch (error) {
        // The outputs taken are gone with the aborted transaction: the records behind them are
        // read again from the group's committed offset, and handled again.
        this.stopped = true
        this.init.producers.discard(partition)
        this.init.failed(error)
        return
      }
      tracker.committedAt(offset)
    }
  }

  private async commit(
    partition: number,
    offset: string,
    outputs: TransactionalOutput[],
  ): Promise<void> {
    const { topic, groupId, producers } = this.init
    const records = outputs.length > 0 ? await this.init.records(outputs) : []
    const transaction = await (await producers.get(partition)).transaction()
    try {
      if (records.length > 0) await transaction.sendBatch({ acks: -1, topicMessages: records })
      await transaction.sendOffsets({
        consumerGroupId: groupId,
        topics: [{ topic, partitions: [{ partition, offset }] }],
      })
      await transaction.commit()
    } catch (error) {
      await transaction.abort().catch(() => undefined)
      throw error
    }
  }
}

/**
 * Seeks the trackers' partitions back to what the group committed (a transaction that failed
 * may have committed all the same, so the broker's offset wins over ours), or where each
 * tracker says reading must start again when the group has none.
 */
export async function seekCommitted(
  admin: AdminLike,
  consumer: ConsumerLike,
  topic: string,
  groupId: string,
  trackers: Map<number, PartitionTracker>,
): Promise<void> {
  const fallback = new Map<number, string>()
  for (const [partition, tracker] of trackers) {
    const offset = tracker.resumeAt()
    if (offset !== undefined) fallback.set(partition, offset)
  }
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] })
  for (const [partition, offset] of fallback) {
    const stored = committed?.partitions.find((p) => p.partition === partition)?.offset
    consumer.seek({ topic, partition, offset: stored && stored !== '-1' ? stored : offset })
  }
}
