import {
  Deque,
  type InboundMessage,
  InFlight,
  type NackOptions,
  sleep,
  type TransactionalOutput,
  type TransportSubscription,
  withTimeout,
} from '@switchyard/core/transport'
import { HeadAttempts } from './abandoned.js'
import type { AdminLike, BatchPayload, ConsumerLike } from './client.js'
import { Delivery, type DeliveryOwner } from './delivery.js'
import { isRebalance } from './errors.js'
import { Committer, PartitionTracker } from './offsets.js'
import { StartPositions } from './positions.js'
import { seekCommitted, TransactionalCommitter, type TransactionsInit } from './transactions.js'
import { PullWaiter } from './waiter.js'

const RELAUNCH_MIN_MS = 500
const RELAUNCH_MAX_MS = 10_000

/** A bounded wait that must not throw (draining, a last commit at close). */
const atMost = (promise: Promise<void>, ms: number) =>
  withTimeout(promise, ms).catch(() => undefined)

/** What a subscription needs besides its consumer. */
export interface SubscriptionInit {
  topic: string
  groupId: string
  consumer: ConsumerLike
  admin: AdminLike
  /** Records held in the buffer, fetched and not yet pulled. */
  prefetch: number
  /** Where partitions without a committed offset start, or undefined when all have one. */
  startPositions: Map<number, string> | undefined
  commitIntervalMs: number
  /** Longest wait for running handlers when a rebalance is noticed mid-batch. */
  drainMs: number
  heartbeatIntervalMs: number
  /** A request/reply inbox: its group and topic are deleted once closed, nothing left behind. */
  ephemeral?: boolean
  /** Exactly-once: each partition's producer and how outputs become records. */
  transactions?: Omit<TransactionsInit, 'failed'>
  /** Called once the subscription closed. */
  onClosed(): void
}

/**
 * A Kafka consumer-group member behind core's pull contract. kafkajs pushes fetched batches
 * into `eachBatch`; they wait in a small buffer (at most `prefetch` records, so a slow handler
 * slows fetching) until the dispatcher pulls them. Offsets are committed by watermark per
 * partition (see `PartitionTracker`); a nacked record goes back to the front of the buffer
 * (core has already waited out any retry delay).
 */
export class KafkaSubscription implements TransportSubscription, DeliveryOwner {
  private buffer = new Deque<Delivery>()
  /** The open `pull`. */
  private readonly waiter = new PullWaiter()
  private roomWaiters: Array<() => void> = []
  private trackers = new Map<number, PartitionTracker>()
  private committer: Committer | TransactionalCommitter
  private assigned: number[] = []
  private generation = 0
  /** Deliveries of the current generation pulled and not yet settled. */
  private held = new InFlight()
  private revoked: Promise<void> | undefined
  /** Positioning after a join; undefined once done, so a batch is buffered in the turn it arrives. */
  private ready: Promise<void> | undefined
  private running: Promise<void> | undefined
  private problem: unknown
  private closed = false
  /** Aborted at close: ends a relaunch wait. */
  private readonly stop = new AbortController()
  private relaunchDelayMs = RELAUNCH_MIN_MS
  private readonly starts: StartPositions
  private readonly heads: HeadAttempts

  constructor(private readonly init: SubscriptionInit) {
    this.committer = this.newCommitter()
    const { startPositions, consumer, admin, topic, groupId } = init
    this.starts = new StartPositions(startPositions, consumer, admin, topic, groupId)
    this.heads = new HeadAttempts(consumer, admin, topic, groupId, (error) => this.report(error))
  }

  /** Joins the group in the background; resolves once the consumer is subscribed. */
  async start(fromBeginning: boolean): Promise<void> {
    const { consumer, topic } = this.init
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const assignment = (event.payload.memberAssignment ?? {}) as Record<string, number[]>
      this.relaunchDelayMs = RELAUNCH_MIN_MS
      this.joined(assignment[topic] ?? [])
    })
    consumer.on(consumer.events.REBALANCING, () => void this.revoke(false))
    consumer.on(consumer.events.CRASH, (event) => {
      void this.revoke(false)
      if (event.payload.restart === true || this.closed) return
      // kafkajs gives up for good on errors it deems fatal, "Failed to find group coordinator"
      // among them, which a broker restart produces. Report it, then run the consumer again.
      this.report(event.payload.error)
      this.relaunchLater()
    })
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning })
    this.launch()
  }

  private launch(): void {
    if (this.closed) return
    const { consumer } = this.init
    this.running = (async () => {
      await consumer.connect()
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 64,
        eachBatch: (payload) => this.eachBatch(payload),
      })
    })()
    this.running.catch((error: unknown) => {
      // Not even connected (the broker is still away): try again later.
      this.report(error)
      this.relaunchLater()
    })
  }

  /** Hands an error to the dispatcher (and so to the bus's `onError` hook) at its next pull. */
  private report(error: unknown): void {
    if (this.waiter.waiting) this.waiter.fail(error)
    else this.problem = error
  }

  private relaunchLater(): void {
    if (this.closed) return
    // Connection level: the broker is away; the consumer runs again once it may be back.
    void sleep(this.relaunchDelayMs, this.stop.signal).then((due) => due && this.launch())
    this.relaunchDelayMs = Math.min(RELAUNCH_MAX_MS, this.relaunchDelayMs * 2)
  }

  /**
   * Answers with 1..max buffered records at once, or with the next batch from inside kafkajs's
   * `eachBatch` call, so a handler starts in the turn its batch arrived (as a kafkajs
   * `eachMessage` handler does); with [] once closed or aborted, `fail` for a consumer error.
   */
  pull(
    max: number,
    signal: AbortSignal,
    deliver: (messages: InboundMessage[]) => void,
    fail: (error: unknown) => void,
  ): void {
    if (this.closed || signal.aborted) {
      deliver([])
      return
    }
    if (this.problem !== undefined) {
      const problem = this.problem
      this.problem = undefined
      fail(problem)
      return
    }
    if (this.buffer.length > 0) {
      deliver(this.take(max))
      return
    }
    this.waiter.park(max, signal, deliver, fail)
  }

  /** Commits what was handled, then leaves the group; unsettled records go to the next owner. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.stop.abort()
    if (this.waiter.waiting) this.waiter.answer([])
    this.dropHeld()
    await atMost(this.committer.flush(), 5_000)
    await atMost(this.heads.release(), 5_000)
    this.committer.stop()
    await atMost(this.init.transactions?.producers.close() ?? Promise.resolve(), 5_000)
    // Leaving while the first join is still under way would leave a member behind.
    if (this.running !== undefined) await atMost(this.running, 10_000)
    try {
      await this.init.consumer.disconnect()
      if (this.init.ephemeral) {
        const { admin, groupId, topic } = this.init
        await admin.deleteGroups([groupId]).catch(() => undefined)
        await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
      }
    } finally {
      this.init.onClosed()
    }
  }

  private async eachBatch(payload: BatchPayload): Promise<void> {
    const { batch } = payload
    const generation = this.generation
    // An await, even of a settled promise, queues the rest behind every pending microtask of
    // kafkajs's fetch, which shows in latency: only wait while positioning runs.
    if (this.ready !== undefined) await this.ready
    const stopped = () =>
      this.closed ||
      generation !== this.generation ||
      this.revoked !== undefined ||
      !payload.isRunning() ||
      payload.isStale()
    if (stopped()) return
    const tracker = this.tracker(batch.partition)
    const { topic } = this.init
    let unresolved: string | undefined
    for (const record of batch.messages) {
      while (!this.hasRoom()) {
        // A waiting pull may take the whole buffer; only wait when that did not make room.
        this.wakePuller()
        if (this.hasRoom()) break
        // The fetch position moves past what was buffered (kafkajs refetches unresolved records).
        if (unresolved !== undefined) payload.resolveOffset(unresolved)
        unresolved = undefined
        await this.waitForRoom()
        if (stopped()) return
        try {
          await payload.heartbeat()
        } catch (error) {
          // Noticed here, the rebalance can wait for running handlers: they finish and commit.
          if (isRebalance(error)) await this.revoke(true)
          throw error
        }
        if (stopped()) return
      }
      const recording = this.heads.record(batch.partition, record.offset)
      if (recording !== undefined) {
        await recording
        if (stopped()) return
      }
      const attempt = this.heads.attemptOf(batch.partition, record.offset)
      const entry = tracker.add(record.offset)
      this.buffer.push(
        new Delivery(this, topic, batch.partition, record, entry, tracker, generation, attempt),
      )
      unresolved = record.offset
    }
    if (unresolved !== undefined) payload.resolveOffset(unresolved)
    this.wakePuller()
  }

  private hasRoom(): boolean {
    return this.buffer.length < this.init.prefetch
  }

  /** Resolves once a pull made room, or after a heartbeat interval, whichever comes first. */
  private waitForRoom(): Promise<void> {
    return new Promise((resolve) => {
      // Connection level: the member heartbeats while its buffer stays full, or the group drops it.
      const timer = setTimeout(done, this.init.heartbeatIntervalMs)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.roomWaiters.push(done)
    })
  }

  private take(max: number): InboundMessage[] {
    const deliveries = this.buffer.take(max)
    for (let i = 0; i < deliveries.length; i++) this.held.enter()
    if (this.heads.pending)
      for (const d of deliveries) this.heads.taken(d.partition, d.record.offset)
    for (const resolve of this.roomWaiters.splice(0)) resolve()
    return deliveries
  }

  private wakePuller(): void {
    if (this.waiter.waiting && this.buffer.length > 0)
      this.waiter.answer(this.take(this.waiter.max))
  }

  /** Marks a delivery settled once; true when it belongs to the current generation. */
  private current(delivery: Delivery): boolean {
    if (delivery.settled || delivery.generation !== this.generation) return false
    delivery.settled = true
    this.held.leave()
    return true
  }

  /** @internal An ack: the record counts as handled for the commit mark (with its outputs). */
  settle(delivery: Delivery, outputs?: readonly TransactionalOutput[]): void {
    // Acks of an earlier generation are dropped: the partition's next owner redelivers them.
    if (!this.current(delivery)) return
    delivery.tracker.done(delivery.entry, outputs)
    this.committer.schedule(delivery.partition)
  }

  /**
   * @internal A nack: the record goes back to the front of the buffer at once (Kafka has no
   * native delay, so core waited out any retry delay already); the mark waits for it.
   */
  redeliver(delivery: Delivery, options: NackOptions): void {
    if (options.attempt < delivery.attempt)
      this.heads.givenBack(delivery.partition, delivery.record.offset)
    if (!this.current(delivery) || this.revoked !== undefined || this.closed) return
    this.buffer.unshift(delivery.again(options.attempt + 1))
    this.wakePuller()
  }

  private tracker(partition: number): PartitionTracker {
    let tracker = this.trackers.get(partition)
    if (tracker === undefined) {
      tracker = new PartitionTracker()
      this.trackers.set(partition, tracker)
    }
    return tracker
  }

  /** The group took the partitions back: stop feeding, optionally let handlers finish, commit. */
  private revoke(drain: boolean): Promise<void> {
    if (this.revoked !== undefined) return this.revoked
    this.dropHeld()
    this.revoked = (async () => {
      if (drain) await atMost(this.held.idle(), this.init.drainMs)
      await atMost(this.committer.flush(), 5_000)
      await atMost(this.heads.release(), 5_000)
    })()
    return this.revoked
  }

  /** A (re)join finished: a new generation with fresh trackers, positioned where it must start. */
  private joined(assigned: number[]): void {
    this.assigned = assigned
    this.init.transactions?.producers.assign(assigned)
    if (this.revoked === undefined) this.dropHeld()
    this.committer.stop()
    this.generation++
    this.held = new InFlight()
    this.revoked = undefined
    this.trackers = new Map()
    this.committer = this.newCommitter()
    // The first join seeks at once, inside kafkajs's join event, so the first fetch starts there.
    // A seek after an await comes once that fetch is out: it then waits `maxWaitTimeMs` at the
    // broker's end of the log for nothing (or, at `earliest`, a whole fetch is thrown away).
    const early = this.generation === 1
    if (early) this.starts.seek(assigned)
    const generation = this.generation
    const current = () => generation === this.generation
    const ready: Promise<void> = this.starts
      .position(assigned, early, current)
      .then(() => (this.init.ephemeral ? undefined : this.heads.load(assigned, current)))
      .catch((error: unknown) => this.report(error))
      .then(() => {
        if (this.ready === ready) this.ready = undefined
      })
    this.ready = ready
  }

  /** Exactly-once: a transaction failed, its outputs are gone; redo all not committed. */
  private rewind(error: unknown): void {
    this.report(error)
    const { admin, consumer, topic, groupId } = this.init
    const redo = seekCommitted(admin, consumer, topic, groupId, this.trackers)
    this.joined(this.assigned)
    const ready: Promise<void> = Promise.all([this.ready, redo])
      .catch((e: unknown) => this.report(e))
      .then(() => {
        if (this.ready === ready) this.ready = undefined
      })
    this.ready = ready
  }

  private newCommitter(): Committer | TransactionalCommitter {
    const generation = this.generation
    const { transactions } = this.init
    if (transactions !== undefined) {
      const failed = (error: unknown) => generation === this.generation && this.rewind(error)
      return new TransactionalCommitter(() => this.trackers, { ...transactions, failed })
    }
    return new Committer(
      () => this.trackers,
      async (offsets) => {
        if (generation !== this.generation) return
        const { topic } = this.init
        await this.init.consumer.commitOffsets(offsets.map((o) => ({ topic, ...o })))
      },
      this.init.commitIntervalMs,
      (error) => {
        if (!isRebalance(error)) this.report(error)
      },
    )
  }

  private dropHeld(): void {
    this.buffer = new Deque()
    for (const resolve of this.roomWaiters.splice(0)) resolve()
  }
}
