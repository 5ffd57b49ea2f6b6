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
}

/** Bytes per partition (`topic\0partition`; -1 where the record names none). */
type Sizes = Map<string, number>

interface Part {
  topic: string
  records: RecordOut[]
  sizes: Sizes
  settle(error: unknown): void
}

const bucket = (topic: string, record: RecordOut) => `${topic}\0${record.partition ?? -1}`

/**
 * Merges concurrent publishes into as few produce requests as possible. kafkajs sends every
 * `send()` as its own request and the idempotent producer serialises them, so separately
 * awaited publishes would each pay a round trip. Here one request is in flight at a time and
 * everything published meanwhile goes out together in the next one (group commit), so a lone
 * publish is sent at the end of the current event-loop turn and a burst costs one round trip
 * per `batchSize` bytes. Records of
 * one topic keep their publish order: parts are sent in arrival order, one request at a time.
 */
export class PublishBatcher {
  private queue: Part[] = []
  private readonly queued: Sizes = new Map()
  private inFlight: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined
  private immediate: NodeJS.Immediate | undefined
  private idleWaiters: Array<() => void> = []

  constructor(
    private readonly send: SendBatch,
    private readonly options: BatcherOptions,
  ) {}

  /** Records waiting or in flight. */
  get pending(): number {
    return this.queue.length + (this.inFlight === undefined ? 0 : 1)
  }

  /** Queues records of one topic; resolves when all are confirmed, rejects if any part failed. */
  publish(topic: string, records: RecordOut[]): Promise<void> {
    if (records.length === 0) return Promise.resolve()
    const parts: Promise<void>[] = []
    let chunk: RecordOut[] = []
    let sizes: Sizes = new Map()
    // A publish with more than batchSize bytes for one partition is split; the pieces still
    // leave in order.
    for (const record of records) {
      const size = recordSize(record)
      const key = bucket(topic, record)
      const held = sizes.get(key) ?? 0
      if (chunk.length > 0 && held + size > this.options.batchSize) {
        parts.push(this.enqueue(topic, chunk, sizes))
        chunk = []
        sizes = new Map()
      }
      chunk.push(record)
      sizes.set(key, (sizes.get(key) ?? 0) + size)
    }
    parts.push(this.enqueue(topic, chunk, sizes))
    this.schedule()
    return parts.length === 1 ? parts[0]! : Promise.all(parts).then(() => undefined)
  }

  /** Sends whatever waits (ignoring `lingerMs`) and resolves once nothing is queued or in flight. */
  async flush(): Promise<void> {
    this.cancelTimer()
    while (this.queue.length > 0 || this.inFlight !== undefined) {
      if (this.inFlight === undefined) this.sendNext()
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
    }
  }

  private enqueue(topic: string, records: RecordOut[], sizes: Sizes): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({
        topic,
        records,
        sizes,
        settle: (error) => (error === undefined ? resolve() : reject(error)),
      })
      for (const [key, bytes] of sizes) this.queued.set(key, (this.queued.get(key) ?? 0) + bytes)
    })
  }

  private schedule(): void {
    if (this.inFlight !== undefined) return
    if (this.full()) {
      this.cancelTimer()
      this.sendNext()
      return
    }
    if (this.timer !== undefined || this.immediate !== undefined) return
    if (this.options.lingerMs <= 0) {
      // Publishes made in the same turn of the event loop (a loop of un-awaited calls) go
      // together; a lone publish waits only for the current turn to end.
      this.immediate = setImmediate(() => {
        this.immediate = undefined
        if (this.inFlight === undefined) this.sendNext()
      })
      return
    }
    this.timer = setTimeout(() => {
      this.timer = undefined
      if (this.inFlight === undefined) this.sendNext()
    }, this.options.lingerMs)
  }

  private cancelTimer(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.immediate !== undefined) clearImmediate(this.immediate)
    this.immediate = undefined
  }

  private sendNext(): void {
    if (this.queue.length === 0) {
      this.wakeIdle()
      return
    }
    const batch: Part[] = []
    const taken: Sizes = new Map()
    while (this.queue.length > 0) {
      const next = this.queue[0]!
      if (batch.length > 0 && this.overflows(taken, next.sizes)) break
      batch.push(this.queue.shift()!)
      for (const [key, bytes] of next.sizes) {
        taken.set(key, (taken.get(key) ?? 0) + bytes)
        const left = this.queued.get(key)! - bytes
        if (left > 0) this.queued.set(key, left)
        else this.queued.delete(key)
      }
    }
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
    for (const bytes of this.queued.values()) if (bytes >= this.options.batchSize) return true
    return false
  }

  /** True when adding `sizes` to `taken` puts some partition past batchSize. */
  private overflows(taken: Sizes, sizes: Sizes): boolean {
    for (const [key, bytes] of sizes)
      if ((taken.get(key) ?? 0) + bytes > this.options.batchSize) return true
    return false
  }

  private finish(batch: Part[], error: unknown): void {
    this.inFlight = undefined
    for (const part of batch) part.settle(error)
    // What queued up meanwhile goes at once: it has already waited one round trip.
    if (this.queue.length > 0) this.sendNext()
    else this.wakeIdle()
  }

  private wakeIdle(): void {
    for (const resolve of this.idleWaiters.splice(0)) resolve()
  }
}
