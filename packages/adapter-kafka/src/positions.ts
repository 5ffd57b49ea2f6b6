import { type StartAt, startAtTime } from '@switchyard/core/transport'
import type { AdminLike, ConsumerLike } from './client.js'
import { whileSettling } from './errors.js'

/**
 * Where partitions without a committed offset start, per `startAt`, captured now so that
 * events published after `subscribe` resolves are seen even though the group joins later.
 */
export async function capturePositions(
  admin: AdminLike,
  topic: string,
  group: string,
  startAt: StartAt,
): Promise<Map<number, string> | undefined> {
  const [committed] = await whileSettling(() =>
    admin.fetchOffsets({ groupId: group, topics: [topic] }),
  )
  if (committed?.partitions.every((p) => p.offset !== '-1')) return undefined
  return positionsAt(admin, topic, startAt)
}

/** The offset of each partition of the topic at `startAt` (clamped to what is retained). */
export async function positionsAt(
  admin: AdminLike,
  topic: string,
  startAt: StartAt,
): Promise<Map<number, string>> {
  const bounds = await whileSettling(() => admin.fetchTopicOffsets(topic))
  const positions = new Map<number, string>()
  const time = startAtTime(startAt)
  const byTime =
    time === undefined
      ? undefined
      : await whileSettling(() => admin.fetchTopicOffsetsByTimestamp(topic, time))
  for (const { partition, low, high } of bounds) {
    let offset = startAt === 'earliest' ? low : high
    if (byTime !== undefined) offset = byTime.find((p) => p.partition === partition)?.offset ?? high
    if (typeof startAt === 'object' && 'sequence' in startAt) {
      const wanted = BigInt(startAt.sequence)
      offset = (
        wanted < BigInt(low) ? BigInt(low) : wanted > BigInt(high) ? BigInt(high) : wanted
      ).toString()
    }
    positions.set(partition, offset)
  }
  return positions
}

/**
 * Puts a member's newly assigned partitions where a new group starts: those without a committed
 * offset at their captured start position (see `capturePositions`), committed at once.
 */
export class StartPositions {
  constructor(
    /** Captured at subscribe; undefined once every partition has a committed offset. */
    private starts: Map<number, string> | undefined,
    private readonly consumer: ConsumerLike,
    private readonly admin: AdminLike,
    private readonly topic: string,
    private readonly groupId: string,
  ) {}

  /** Seeks the assigned partitions that have a start position, before any fetch (first join). */
  seek(assigned: number[]): void {
    const { starts, consumer, topic } = this
    if (starts === undefined) return
    for (const partition of assigned) {
      const offset = starts.get(partition)
      if (offset !== undefined) consumer.seek({ topic, partition, offset })
    }
  }

  /**
   * Starts partitions without a committed offset at their start position and commits it.
   * `early`: `seek` ran for this join already (the first join does it before anything else);
   * those seeks are checked against what the group committed meanwhile. `current` is false
   * once a newer join took over.
   */
  async position(assigned: number[], early: boolean, current: () => boolean): Promise<void> {
    const { starts, admin, topic, groupId, consumer } = this
    if (starts === undefined || assigned.length === 0) return
    const [committed] = await whileSettling(() => admin.fetchOffsets({ groupId, topics: [topic] }))
    if (!current()) return
    const seeks: Array<{ topic: string; partition: number; offset: string }> = []
    const partitions = committed?.partitions ?? []
    if (partitions.length > 0 && partitions.every((p) => p.offset !== '-1')) this.starts = undefined
    for (const { partition, offset } of partitions) {
      const start = starts.get(partition)
      if (start === undefined || !assigned.includes(partition)) continue
      if (offset !== '-1') {
        // Another member committed here since `subscribe` looked (members starting together):
        // its offset wins. What the early seek fetched meanwhile waits for this positioning
        // in `eachBatch` and is then dropped as stale, so none of it is delivered.
        if (early && offset !== start) consumer.seek({ topic, partition, offset })
        continue
      }
      if (!early) consumer.seek({ topic, partition, offset: start })
      seeks.push({ topic, partition, offset: start })
    }
    // Committing the start at once keeps it if the partition moves before anything is handled.
    if (seeks.length > 0) await consumer.commitOffsets(seeks)
  }
}
