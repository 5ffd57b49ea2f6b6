import { setMaxListeners } from 'node:events'
import { LATER, type Ticket } from './later.js'
import { sleep } from './timing.js'
import type { InboundMessage, TransportSubscription } from './transport.js'

/** Live figures of a subscription's dispatcher. */
export interface DispatcherStats {
  /** Handlers running now. */
  inFlight: number
  /** Messages pulled from the transport and not yet settled (running, waiting in a lane, or retrying). */
  held: number
  /** Highest `inFlight` seen. */
  maxInFlight: number
  /** Highest `held` seen. */
  maxHeld: number
}

/** The messages of one partition key, run one at a time in arrival order. */
class Lane {
  readonly queue: InboundMessage[] = []
  /** In `ready` or running. */
  scheduled = false

  constructor(readonly key: string) {}
}

/** A slot handle: a handler waiting out a retry gives its concurrency slot back meanwhile. */
export interface Slot {
  /**
   * Frees the slot while `wait` runs, then takes a slot again (queueing if none is free). With
   * `unhold`, the message also stops counting against `prefetch` meanwhile, so a long retry
   * wait does not stop the reads (its lane still waits).
   */
  releaseWhile<T>(wait: Promise<T>, unhold?: boolean): Promise<T>
}

/** What the dispatcher does with messages. */
export interface DispatcherWork {
  /**
   * Handles one message: `undefined` when it finished synchronously, a promise that settles when
   * it finished, or `LATER` when it calls `complete(ticket)` itself (no promise per message).
   */
  process(
    message: InboundMessage,
    slot: Slot,
    ticket: Ticket,
  ): Promise<void> | undefined | typeof LATER
  /** Returns a message that will not be handled here (stopped before it started). */
  giveBack(message: InboundMessage): Promise<void>
  /** A read or processing error outside any handler. */
  onError(error: unknown): void
  /** After `process` was called for everything that could start now (a batch may go). */
  started?: (() => void) | undefined
}

/**
 * Pulls from a transport subscription and runs `process` with bounded concurrency. Messages with
 * the same key run one after another in arrival order (a lane); different keys run in parallel.
 * It asks for messages only while fewer than `prefetch` are held, so a slow handler slows the
 * broker reads instead of filling memory. One request is open at a time; the transport answers
 * it in its own turn, and handlers that finish at once let the loop ask again in that turn.
 */
export class Dispatcher {
  private readonly lanes = new Map<string, Lane>()
  private readonly active = new Set<Lane>()
  /** Lanes with work, and keyless messages (which need no lane: nothing orders them). */
  private readonly ready: Array<Lane | InboundMessage> = []
  private readonly slotWaiters: Array<() => void> = []
  private readonly abort = new AbortController()
  private running = 0
  private held = 0
  /** Messages waiting out a retry outside `held` (see `Slot.releaseWhile`). */
  private unheld = 0
  private maxRunning = 0
  private maxHeld = 0
  private idleWaiters: Array<() => void> = []
  private stopped = false
  /** Paused: no reads, no new handlers; what is held waits. */
  private paused = false
  private pumping = false
  /** A request is open with the source. */
  private requested = false
  /** Inside `delivered`, whose loop asks for more itself. */
  private delivering = false
  /** An answer given synchronously to the loop's own request. */
  private parked: InboundMessage[] | undefined

  constructor(
    private readonly source: TransportSubscription,
    private readonly concurrency: number,
    private readonly prefetch: number,
    private readonly work: DispatcherWork,
  ) {
    // Every open request and retry timer listens on this one signal.
    setMaxListeners(0, this.abort.signal)
  }

  /** Signal that aborts when the dispatcher stops. */
  get signal(): AbortSignal {
    return this.abort.signal
  }

  /** Starts reading. */
  start(): void {
    this.request()
  }

  /** Stops reading and starting handlers; running ones finish. Membership is kept. */
  pause(): void {
    this.paused = true
  }

  /** Starts what is held and reads again. */
  resume(): void {
    if (!this.paused) return
    this.paused = false
    this.pump()
    this.request()
  }

  /** Current figures. */
  stats(): DispatcherStats {
    return {
      inFlight: this.running,
      held: this.held,
      maxInFlight: this.maxRunning,
      maxHeld: this.maxHeld,
    }
  }

  /**
   * Stops reading, lets running handlers finish (up to `timeoutMs`), and hands back messages
   * that never started. Resolves `true` when everything finished in time.
   */
  async stop(timeoutMs: number): Promise<boolean> {
    this.stopped = true
    this.abort.abort()
    // Messages waiting in lanes never started: return them untouched.
    const waiting: InboundMessage[] = []
    for (const item of this.ready) {
      if (!(item instanceof Lane)) {
        waiting.push(item)
        continue
      }
      waiting.push(...item.queue)
      item.queue.length = 0
      item.scheduled = false
      this.lanes.delete(item.key)
    }
    this.ready.length = 0
    for (const lane of this.active) waiting.push(...lane.queue.splice(1))
    this.held -= waiting.length
    await Promise.all(waiting.map((message) => this.work.giveBack(message)))
    if (this.idle()) return true
    const idle = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)))
    const finished = await Promise.race([idle, sleep(timeoutMs).then(() => false)])
    return finished
  }

  private idle(): boolean {
    return this.held === 0 && this.unheld === 0
  }

  /** Asks for as many messages as there is room for, unless a request is open. */
  private request(): void {
    // Inside `delivered` the loop asks once its batch is in.
    if (!this.delivering && this.mayRequest()) this.ask()
  }

  private ask(): void {
    this.requested = true
    this.source.pull(this.prefetch - this.held, this.abort.signal, this.delivered, this.failed)
  }

  private mayRequest(): boolean {
    return !this.requested && !this.stopped && !this.paused && this.held < this.prefetch
  }

  private readonly delivered = (batch: InboundMessage[]): void => {
    this.requested = false
    // An empty answer means closed or aborted: nothing more will come.
    if (batch.length === 0) return
    if (this.stopped) {
      // Answered after stop() began: never started, so given back untouched.
      for (const message of batch) void this.work.giveBack(message)
      return
    }
    if (this.delivering) {
      this.parked = batch
      return
    }
    this.delivering = true
    try {
      let next: InboundMessage[] | undefined = batch
      while (next !== undefined) {
        this.accept(next)
        next = undefined
        if (!this.mayRequest()) break
        // Handlers that finished at once made room. A source with more buffered answers within
        // this call (parked above); one that has none keeps the request open.
        this.ask()
        next = this.parked
        this.parked = undefined
      }
    } finally {
      this.delivering = false
    }
  }

  private readonly failed = (error: unknown): void => {
    this.requested = false
    if (this.stopped) return
    this.work.onError(error)
    void sleep(200, this.abort.signal).then(() => this.request())
  }

  /** Takes pulled messages in: into their lanes, then as many started as concurrency allows. */
  private accept(batch: InboundMessage[]): void {
    this.held += batch.length
    if (this.held > this.maxHeld) this.maxHeld = this.held
    for (const message of batch) this.enqueue(message)
    this.pump()
  }

  private enqueue(message: InboundMessage): void {
    const key = message.key
    if (key === undefined) {
      this.ready.push(message)
      return
    }
    let lane = this.lanes.get(key)
    if (lane === undefined) {
      lane = new Lane(key)
      this.lanes.set(key, lane)
    }
    lane.queue.push(message)
    if (!lane.scheduled) {
      lane.scheduled = true
      this.ready.push(lane)
    }
  }

  private pump(): void {
    // Re-entrant calls (a lane finishing synchronously) leave the work to the loop already running.
    if (this.pumping) return
    this.pumping = true
    let started = 0
    try {
      while (
        this.running < this.concurrency &&
        this.ready.length > 0 &&
        !this.stopped &&
        !this.paused
      ) {
        const item = this.ready.shift()!
        started++
        this.running++
        if (this.running > this.maxRunning) this.maxRunning = this.running
        if (item instanceof Lane) {
          this.active.add(item)
          this.runOne(item.queue[0]!, item)
        } else {
          this.runOne(item, undefined)
        }
      }
    } finally {
      this.pumping = false
    }
    if (started > 0) this.work.started?.()
  }

  private runOne(message: InboundMessage, lane: Lane | undefined): void {
    let pending: Promise<void> | undefined | typeof LATER
    try {
      pending = this.work.process(message, this.slot, lane as unknown as Ticket)
    } catch (error) {
      this.work.onError(error)
    }
    if (pending === LATER) return
    if (pending === undefined) {
      this.finish(lane)
      return
    }
    pending.then(
      () => this.finish(lane),
      (error: unknown) => {
        this.work.onError(error)
        this.finish(lane)
      },
    )
  }

  /** Ends a run whose `process` returned `LATER`. */
  complete(ticket: Ticket): void {
    this.finish(ticket as unknown as Lane | undefined)
  }

  private finish(lane: Lane | undefined): void {
    this.running--
    this.held--
    if (lane !== undefined) {
      lane.queue.shift()
      this.active.delete(lane)
      if (lane.queue.length > 0 && !this.stopped) {
        this.ready.push(lane)
      } else {
        lane.scheduled = false
        if (lane.queue.length === 0) this.lanes.delete(lane.key)
      }
    }
    this.releaseSlotWaiter()
    this.pump()
    this.request()
    this.wakeIdle()
  }

  private wakeIdle(): void {
    if (this.idle() && this.idleWaiters.length > 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve()
    }
  }

  private releaseSlotWaiter(): void {
    if (this.running < this.concurrency && this.slotWaiters.length > 0) {
      this.running++
      this.slotWaiters.shift()!()
    }
  }

  private readonly slot: Slot = {
    releaseWhile: async <T>(wait: Promise<T>, unhold = false): Promise<T> => {
      this.running--
      if (unhold) {
        this.held--
        this.unheld++
        this.request()
      }
      this.releaseSlotWaiter()
      this.pump()
      try {
        return await wait
      } finally {
        if (unhold) {
          this.unheld--
          this.held++
        }
        if (this.running < this.concurrency && this.slotWaiters.length === 0) {
          this.running++
        } else {
          await new Promise<void>((resolve) => this.slotWaiters.push(resolve))
        }
        if (this.running > this.maxRunning) this.maxRunning = this.running
      }
    },
  }
}
