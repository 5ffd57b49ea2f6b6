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

/** Bytes per partition of one topic, at index partition + 1 (0: records that name none). */
type Bytes = number[]

/** Records of one topic queued together: the unit a request takes; they settle as one. */
interface Part {
  topic: string
  records: RecordOut[]
  bytes: Bytes
  total: number
  done: Promise<void>
  resolve(): void
  reject(error: unknown): void
}

/**
 * Share of batchSize a part holds at most. Parts are the unit a request takes, so they stay
 * small enough that a request still fills each partition to within an eighth of batchSize.
 */
const PART_SHARE = 8

/** Adds `size` to the record's partition in `bytes`; returns the new count. */
function add(bytes: Bytes, record: RecordOut, size: number): number {
  const index = (record.partition ?? -1) + 1
  const total = (bytes[index] ?? 0) + size
  bytes[index] = total
  return total
}

/** The row of `topic` in `rows`, created empty. */
function rowOf(rows: Map<string, Bytes>, topic: string): Bytes {
  let row = rows.get(topic)
  if (row === undefined) {
    row = []
    rows.set(topic, row)
  }
  return row
}

/**
 * Merges concurrent publishes into as few produce requests as possible. kafkajs sends every
 * `send()` as its own request, so separately awaited publishes would each pay a round trip.
 * Here one request is in flight at a time and everything published meanwhile goes out together
 * in the next one (group commit), so a lone publish is sent as soon as the code that made it
 * returns and a burst costs one round trip per `batchSize` bytes of a partition. Records of one
 * topic keep their publish order: parts are sent in arrival order, one request at a time.
 */
export class PublishBatcher {
  private queue: Part[] = []
  /** Bytes waiting per topic and partition: one partition at batchSize sends without lingering. */
  private readonly queued = new Map<string, Bytes>()
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
    return this.queue.length + (this.inFlight === undefined ? 0 : 1)
  }

  /** Queues records of one topic; resolves when all are confirmed, rejects if any part failed. */
  publish(topic: string, records: RecordOut[]): Promise<void> {
    if (records.length === 0) return Promise.resolve()
    const limit = this.options.batchSize
    const queued = rowOf(this.queued, topic)
    // Separate publishes in a burst share one part and one promise: a part and a promise per
    // event would live through a whole round trip.
    const last = this.queue[this.queue.length - 1]
    let part = last?.topic === topic ? last : undefined
    const parts: Part[] = []
    let full = false
    for (const record of records) {
      const size = recordSize(record)
      if (part === undefined || (part.total + size > limit / PART_SHARE && part.total > 0)) {
        part = this.enqueue(topic)
      }
      if (parts[parts.length - 1] !== part) parts.push(part)
      part.records.push(record)
      part.total += size
      add(part.bytes, record, size)
      if (add(queued, record, size) >= limit) full = true
    }
    this.schedule(full)
    if (parts.length === 1) return parts[0]!.done
    return Promise.all(parts.map((p) => p.done)).then(() => undefined)
  }

  /** Sends whatever waits (ignoring `lingerMs`) and resolves once nothing is queued or in flight. */
  async flush(): Promise<void> {
    this.cancelTimer()
    while (this.queue.length > 0 || this.inFlight !== undefined) {
      if (this.inFlight === undefined) this.sendNext()
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
    }
  }

  private enqueue(topic: string): Part {
    let resolve!: () => void
    let reject!: (error: unknown) => void
    const done = new Promise<void>((yes, no) => {
      resolve = yes
      reject = no
    })
    const part: Part = { topic, records: [], bytes: [], total: 0, done, resolve, reject }
    this.queue.push(part)
    return part
  }

  /** `full`: some partition holds batchSize bytes already, no point lingering. */
  private schedule(full: boolean): void {
    if (this.inFlight !== undefined) return
    if (full) {
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

  /** Sends the parts at the front, as many as fit batchSize per partition (at least one). */
  private sendNext(): void {
    if (this.queue.length === 0) {
      this.wakeIdle()
      return
    }
    const limit = this.options.batchSize
    const taken = new Map<string, Bytes>()
    let count = 0
    for (const part of this.queue) {
      const row = rowOf(taken, part.topic)
      const bytes = part.bytes
      let fits = true
      for (let i = 0; i < bytes.length; i++)
        if ((row[i] ?? 0) + (bytes[i] ?? 0) > limit) fits = false
      if (!fits && count > 0) break
      for (let i = 0; i < bytes.length; i++) row[i] = (row[i] ?? 0) + (bytes[i] ?? 0)
      count++
    }
    const batch = this.queue.splice(0, count)
    const byTopic = new Map<string, RecordOut[]>()
    for (const part of batch) {
      const queued = this.queued.get(part.topic)!
      for (let i = 0; i < part.bytes.length; i++)
        queued[i] = (queued[i] ?? 0) - (part.bytes[i] ?? 0)
      const list = byTopic.get(part.topic)
      if (list === undefined) byTopic.set(part.topic, part.records.slice())
      else for (const record of part.records) list.push(record)
    }
    const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }))
    this.inFlight = this.send(topicMessages).then(
      () => this.finish(batch, undefined),
      (error: unknown) => this.finish(batch, error ?? new Error('produce failed')),
    )
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
    if (this.queue.length > 0) this.sendNext()
    else this.wakeIdle()
  }

  private wakeIdle(): void {
    for (const resolve of this.idleWaiters.splice(0)) resolve()
  }
}
