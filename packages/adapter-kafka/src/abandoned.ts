import type { AdminLike, ConsumerLike } from './client.js'
import { whileSettling } from './errors.js'

const TAG = 'switchyard.attempts'

/** Commit metadata saying the record at `offset` was started `attempts` times by past owners. */
export function attemptsMetadata(offset: string, attempts: number): string {
  return `${TAG}:${offset}:${attempts}`
}

/** The attempts recorded for the record at `offset`, 0 when the metadata is about another one. */
export function readAttempts(metadata: string | null | undefined, offset: string): number {
  if (typeof metadata !== 'string' || !metadata.startsWith(`${TAG}:`)) return 0
  const [, at, count] = metadata.split(':')
  const attempts = Number(count)
  return at === offset && Number.isSafeInteger(attempts) && attempts > 0 ? attempts : 0
}

interface Head {
  offset: string
  /** Attempts past owners started (from the commit metadata). */
  before: number
  /** The commit saying this owner starts one more, once asked for. */
  recorded: Promise<void> | undefined
  /** Handed to the dispatcher and not given back. */
  taken: boolean
}

/**
 * Kafka keeps no delivery count, so the attempts of the record at a partition's committed offset
 * (the head: nothing past it is committed until it is settled) are counted in the offset
 * commit's metadata. Before a new owner buffers its head, it commits the same offset saying one
 * more attempt started, and delivers it as that attempt; a member that dies or leaves with its
 * handler hanging therefore uses up an attempt, and core dead-letters the record once it is past
 * `retry.maxAttempts`. Only the head is counted: a record that does not settle holds the mark
 * back, so sooner or later it is the head of a later owner. A head this owner buffered but never
 * handed to a handler gets its count back when the partition is revoked or the member closes, as does one the dispatcher gave back
 * unstarted.
 */
export class HeadAttempts {
  private heads = new Map<number, Head>()
  /** Heads recorded and not yet taken; `taken` is skipped entirely while this is 0. */
  private open = 0

  constructor(
    private readonly consumer: ConsumerLike,
    private readonly admin: AdminLike,
    private readonly topic: string,
    private readonly groupId: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Whether a recorded head still waits to be handed to the dispatcher. */
  get pending(): boolean {
    return this.open > 0
  }

  /** Reads the committed offsets and their metadata of the newly assigned partitions. */
  async load(assigned: number[], current: () => boolean): Promise<void> {
    const { admin, groupId, topic } = this
    const heads = new Map<number, Head>()
    if (assigned.length > 0) {
      const [committed] = await whileSettling(() =>
        admin.fetchOffsets({ groupId, topics: [topic] }),
      )
      for (const { partition, offset, metadata } of committed?.partitions ?? []) {
        if (offset === '-1' || !assigned.includes(partition)) continue
        const before = readAttempts(metadata, offset)
        heads.set(partition, { offset, before, recorded: undefined, taken: false })
      }
    }
    if (!current()) return
    this.heads = heads
    this.open = 0
  }

  /** The attempt a fetched record is delivered as: past owners' attempts plus this one. */
  attemptOf(partition: number, offset: string): number {
    const head = this.heads.get(partition)
    return head !== undefined && head.offset === offset ? head.before + 1 : 1
  }

  /**
   * For the head of its partition: commits that one more attempt starts, before it is buffered
   * (a process that dies in the handler has counted it). Undefined for any other record.
   */
  record(partition: number, offset: string): Promise<void> | undefined {
    const head = this.heads.get(partition)
    if (head === undefined || head.offset !== offset) return undefined
    if (head.recorded === undefined) {
      this.open++
      // Not recorded (a rebalance, a lost broker): the record is still delivered, counted as now.
      head.recorded = this.commit(partition, head.offset, head.before + 1).catch(this.onError)
    }
    return head.recorded
  }

  /** A delivery was handed to the dispatcher. */
  taken(partition: number, offset: string): void {
    if (this.open === 0) return
    const head = this.heads.get(partition)
    if (head === undefined || head.offset !== offset || head.taken) return
    head.taken = true
    if (head.recorded !== undefined) this.open--
  }

  /** The dispatcher gave a delivery back unstarted (core nacks it with its attempt unused). */
  givenBack(partition: number, offset: string): void {
    const head = this.heads.get(partition)
    if (head === undefined || head.offset !== offset || !head.taken) return
    head.taken = false
    if (head.recorded !== undefined) this.open++
  }

  /**
   * The partitions are going away: heads recorded but never handed to a handler get their count
   * back (unless the mark moved past them). Never rejects.
   */
  async release(): Promise<void> {
    if (this.open === 0) return
    const restores: Promise<void>[] = []
    for (const [partition, head] of this.heads) {
      if (head.recorded === undefined || head.taken) continue
      head.taken = true
      restores.push(head.recorded.then(() => this.commit(partition, head.offset, head.before)))
    }
    this.open = 0
    await Promise.allSettled(restores)
  }

  private commit(partition: number, offset: string, attempts: number): Promise<void> {
    const { consumer, topic } = this
    return consumer.commitOffsets([
      {
        topic,
        partition,
        offset,
        metadata: attempts === 0 ? null : attemptsMetadata(offset, attempts),
      },
    ])
  }
}
