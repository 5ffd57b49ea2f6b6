import type { RecordOut } from './client.js'
import { recordSize } from './mapping.js'

/** Sends one merged batch; resolves when the broker confirmed every record in it. */
export type SendBatch = (
  topicMessages: Array<{ topic: string; messages: RecordOut[] }>,
) => Promise<void>

/** Limits of the batcher. */
export interface BatcherOptions {
  /** Wait this long for more publishes before sending; 0 sends at once when nothing is in flight. */
  lingerMs: number
  /**
   * Most bytes of one partition merged into one request (a single larger record still goes,
   * alone), as Kafka limits each partition's record batch (`message.max.bytes`).
   */
  batchSize: number
  /** The error a publish rejects with when its records were not confirmed. @default the send's */
  failure?: (error: unknown, topic: string, count: number) => unknown
}

/**
 * Bytes per partition: per topic, indexed by partition + 1 (index 0: records naming none).
 * Numbers in arrays, so counting allocates no key per record.
 */
type Sizes = Map<string, number[]>

/** Adds `bytes` to the count of the record's partition; returns the new count. */
function add(into: Sizes, topic: string, record: RecordOut, bytes: number): number {
  let row = into.get(topic)
  if (row === undefined) {
    row = []
    into.set(topic, row)
  }
  const index = (record.partition ?? -1) + 1
  const total = (row[index] ?? 0) + bytes
  row[index] = total
  return total
}

/** Bytes counted so far for the record's partition. */
const counted = (sizes: Sizes, topic: string, record: RecordOut) =>
  sizes.get(topic)?.[(record.partition ?? -1) + 1] ?? 0

interface Part {
  topic: string
  records: RecordOut[]
  /** Bytes of all its records: while a batch's total stays under batchSize, no partition can overflow. */
  bytes: number
  /** Record sizes, in order (kept for the exact per-partition count, needed only near the limit). */
  sizes: number[]
  /** True once `records` and `sizes` are the batcher's own copies, so later publishes may join. */
  owned: boolean
  /** Settles when the request carrying this part is answered; shared by every publish in it. */
  done: Promise<void>
  resolve(): void
  reject(error: unknown): void
}

/**
 * Share of batchSize up to which publishes to one topic join the part queued last. Parts are the
 * unit a request takes, so they stay small enough that a request still fills each partition to
 * within an eighth of batchSize.
 */
const JOIN_SHARE = 8

/** Adds each record's size to its partition's count in `into`. */
function countPart(part: Part, into: Sizes): void {
  for (let i = 0; i < part.records.length; i++)
    add(into, part.topic, part.records[i]!, part.sizes[i]!)
}

/**
 * Merges concurrent publishes into as few produce requests as possible. kafkajs sends every
 * `send()` as its own request and the idempotent producer serialises them, so separately
 * awaited publishes would each pay a round trip. Here one request is in flight at a time and
 * everything published meanwhile goes out together in the next one (group commit), so a lone
 * publish is sent as soon as the code that made it returns and a burst costs one round trip
 * per `batchSize` bytes of a partition. Records of one topic keep their publish order: parts
 * are sent in arrival order, one request at a time.
 *
 * Sizes are counted per partition only when the bytes involved reach `batchSize`: below that
 * no partition can, and a publish costs one running total (this runs for every event).
 */
export class PublishBatcher {
  private queue: Part[] = []
  private head = 0
  private queuedBytes = 0
  /** Per-partition bytes waiting, kept only while `queuedBytes` is past batchSize. */
  private queuedSizes: Sizes | undefined
  private inFlight: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined
  /** A send is queued as a microtask (`lingerMs` 0); cleared to call it off. */
  private soon = false
  private idleWaiters: Array<() => void> = []

  constructor(
    private readonly send: SendBatch,
    private readonly options: BatcherOptions,
  ) {}

  /** Queued parts plus the request in flight: 0 once nothing waits. */
  get pending(): number {
    return this.queue.length - this.head + (this.inFlight === undefined ? 0 : 1)
  }

  /** Queues records of one topic; resolves when all are confirmed, rejects if any part failed. */
  publish(topic: string, records: RecordOut[]): Promise<void> {
    if (records.length === 0) return Promise.resolve()
    const limit = this.options.batchSize
    const sizes = records.length === 1 ? [recordSize(records[0]!)] : records.map(recordSize)
    let bytes = 0
    for (const size of sizes) bytes += size
    if (bytes <= limit) {
      // Separate publishes in a burst share one part and one promise: a part and a promise per
      // event would live through a whole round trip.
      const tail = this.head < this.queue.length ? this.queue[this.queue.length - 1]! : undefined
      if (tail !== undefined && tail.topic === topic && tail.bytes + bytes <= limit / JOIN_SHARE) {
        this.join(tail, records, sizes, bytes)
        this.schedule()
        return tail.done
      }
      const part = this.enqueue(topic, records, sizes, bytes)
      this.schedule()
      return part
    }
    // More than batchSize bytes for one partition is split; the pieces still leave in order.
    const parts: Promise<void>[] = []
    let start = 0
    let held: Sizes = new Map()
    let chunkBytes = 0
    for (let i = 0; i < records.length; i++) {
      const size = sizes[i]!
      if (i > start && counted(held, topic, records[i]!) + size > limit) {
        parts.push(this.enqueue(topic, records.slice(start, i), sizes.slice(start, i), chunkBytes))
        start = i
        held = new Map()
        chunkBytes = 0
      }
      add(held, topic, records[i]!, size)
      chunkBytes += size
    }
    parts.push(this.enqueue(topic, records.slice(start), sizes.slice(start), chunkBytes))
    this.schedule()
    return Promise.all(parts).then(() => undefined)
  }

  /** Sends whatever waits (ignoring `lingerMs`) and resolves once nothing is queued or in flight. */
  async flush(): Promise<void> {
    this.cancelTimer()
    while (this.head < this.queue.length || this.inFlight !== undefined) {
      if (this.inFlight === undefined) this.sendNext()
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
    }
  }

  private enqueue(topic: string, records: RecordOut[], sizes: number[], bytes: number) {
    let resolve!: () => void
    let reject!: (error: unknown) => void
    const done = new Promise<void>((yes, no) => {
      resolve = yes
      reject = no
    })
    const part: Part = { topic, records, bytes, sizes, owned: false, done, resolve, reject }
    this.queue.push(part)
    this.queuedBytes += bytes
    if (this.queuedSizes !== undefined) countPart(part, this.queuedSizes)
    return done
  }

  /** Appends records to a queued part of the same topic; they keep their publish order. */
  private join(part: Part, records: RecordOut[], sizes: number[], bytes: number): void {
    if (!part.owned) {
      // The first records may be the caller's array: copy before appending.
      part.records = part.records.slice()
      part.sizes = part.sizes.slice()
      part.owned = true
    }
    for (let i = 0; i < records.length; i++) {
      part.records.push(records[i]!)
      part.sizes.push(sizes[i]!)
      if (this.queuedSizes !== undefined) add(this.queuedSizes, part.topic, records[i]!, sizes[i]!)
    }
    part.bytes += bytes
    this.queuedBytes += bytes
  }

  private schedule(): void {
    if (this.inFlight !== undefined) return
    if (this.full()) {
      this.cancelTimer()
      this.sendNext()
      return
    }
    if (this.timer !== undefined || this.soon) return
    if (this.options.lingerMs <= 0) {
      // Publishes made in the same synchronous run (a loop of un-awaited calls) go together; a
      // lone publish leaves once the code that made it returns (`setImmediate` would wait for
      // the rest of the event-loop turn, which shows in end-to-end latency).
      this.soon = true
      queueMicrotask(() => {
        if (!this.soon) return
        this.soon = false
        if (this.inFlight === undefined) this.sendNext()
      })
      return
    }
    // The user's `lingerMs`: gathering publishes into one request is what it asks for.
    this.timer = setTimeout(() => {
      this.timer = undefined
      if (this.inFlight === undefined) this.sendNext()
    }, this.options.lingerMs)
  }

  private cancelTimer(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.soon = false
  }

  private sendNext(): void {
    if (this.head === this.queue.length) {
      this.wakeIdle()
      return
    }
    const limit = this.options.batchSize
    const batch: Part[] = []
    let bytes = 0
    // Exact per-partition counts, from the first part that takes the total past batchSize.
    let taken: Sizes | undefined
    while (this.head < this.queue.length) {
      const next = this.queue[this.head]!
      if (batch.length > 0 && bytes + next.bytes > limit) {
        if (taken === undefined) {
          taken = new Map()
          for (const part of batch) countPart(part, taken)
        }
        if (this.overflows(taken, next)) break
        countPart(next, taken)
      }
      batch.push(next)
      bytes += next.bytes
      this.queue[this.head++] = undefined as unknown as Part
    }
    if (this.head === this.queue.length) {
      this.queue = []
      this.head = 0
    }
    this.queuedBytes -= bytes
    this.queuedSizes = undefined
    const byTopic = new Map<string, RecordOut[]>()
    for (const part of batch) {
      const list = byTopic.get(part.topic)
      if (list === undefined) byTopic.set(part.topic, [...part.records])
      else for (const record of part.records) list.push(record)
    }
    const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }))
    this.inFlight = this.send(topicMessages).then(
      () => this.finish(batch, undefined),
      (error: unknown) => this.finish(batch, error ?? new Error('produce failed')),
    )
  }

  /** True when some partition already has batchSize bytes waiting: no point lingering. */
  private full(): boolean {
    const limit = this.options.batchSize
    if (this.queuedBytes < limit) return false
    if (this.queuedSizes === undefined) {
      // Counted once per crossing; later publishes add to it as they queue.
      this.queuedSizes = new Map()
      for (let i = this.head; i < this.queue.length; i++)
        countPart(this.queue[i]!, this.queuedSizes)
    }
    for (const row of this.queuedSizes.values())
      for (const bytes of row) if (bytes >= limit) return true
    return false
  }

  /** True when adding `part` to `taken` puts some partition past batchSize. */
  private overflows(taken: Sizes, part: Part): boolean {
    const limit = this.options.batchSize
    if (part.records.length === 1)
      return counted(taken, part.topic, part.records[0]!) + part.bytes > limit
    const adding: Sizes = new Map()
    for (let i = 0; i < part.records.length; i++) {
      const record = part.records[i]!
      if (
        counted(taken, part.topic, record) + add(adding, part.topic, record, part.sizes[i]!) >
        limit
      )
        return true
    }
    return false
  }

  private finish(batch: Part[], error: unknown): void {
    this.inFlight = undefined
    const failure = this.options.failure
    for (const part of batch) {
      if (error === undefined) part.resolve()
      else
        part.reject(failure === undefined ? error : failure(error, part.topic, part.records.length))
    }
    // What queued up meanwhile goes at once: it has already waited one round trip.
    if (this.head < this.queue.length) this.sendNext()
    else this.wakeIdle()
  }

  private wakeIdle(): void {
    for (const resolve of this.idleWaiters.splice(0)) resolve()
  }
}
