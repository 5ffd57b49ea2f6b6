import type { EventEnvelope } from './envelope.js'
import { ConfigurationError } from './errors.js'
import { LATER, type Ticket } from './later.js'
import type { HandleContext } from './middleware.js'
import { checkKeys, checkNumber } from './options.js'
import type { Outcome } from './outcome.js'

/** The `batch` option of `subscribe`: the handler receives events in groups. */
export interface BatchOptions {
  /** Most events handed to one handler call. */
  maxSize: number
  /** Longest an event waits for its batch to fill before the batch is handled anyway. @default 20 */
  maxWaitMs?: number
}

/**
 * Handles a batch of events (`subscribe(..., { batch })`). Return nothing when all were handled,
 * or an array of outcomes by position (`undefined` for success; `outcome.retry()`,
 * `outcome.deadLetter(reason)`, `outcome.drop()` for some). A throw counts as a failure of every
 * event in the batch, retried per the policy.
 */
export type BatchHandler<T = unknown> = (
  events: EventEnvelope<T>[],
  batch: BatchContext<T>,
) => unknown

/** What a batch handler gets besides the events. */
export interface BatchContext<T = unknown> {
  /** Topic the events came from. */
  readonly topic: string
  /** Consumer group handling them. */
  readonly group: string
  /** The context of each event, by position (attempt, headers, position, reply). */
  readonly contexts: readonly HandleContext<T>[]
  /** Aborts when the subscription is closing. */
  readonly signal: AbortSignal
}

/** Batch settings validated. */
export interface ResolvedBatch {
  maxSize: number
  maxWaitMs: number
}

/** Validates the `batch` option. @throws {ConfigurationError} naming the field. */
export function resolveBatch(batch: BatchOptions | undefined): ResolvedBatch | undefined {
  if (batch === undefined) return undefined
  checkKeys(batch, ['maxSize', 'maxWaitMs'], 'subscribe.batch')
  return {
    maxSize: checkNumber(batch.maxSize, 'subscribe.batch.maxSize', { min: 1, integer: true }),
    maxWaitMs: checkNumber(batch.maxWaitMs ?? 20, 'subscribe.batch.maxWaitMs', { min: 0 }),
  }
}

/**
 * What a batch needs from its subscription; `M` and `S` are the message and slot types, which
 * the collector only hands back.
 */
export interface BatchOwner<M extends { attempt: number }, S> {
  readonly topic: string
  readonly group: string
  /** Turns one event's handler result into its outcome (a retry past the budget dead-letters). */
  fromHandler(value: unknown, attempt: number): Outcome
  /** Turns a thrown error into an outcome for one event at its attempt. */
  classify(error: Error, attempt: number): Outcome
  /** Acts on one event's outcome (ack, retry, dead letter); a promise when that is not done yet. */
  conclude(
    message: M,
    slot: S,
    event: EventEnvelope,
    attempt: number,
    ctx: HandleContext,
    outcome: Outcome,
  ): Promise<void> | undefined
  /** Ends a dispatcher run left open with `LATER`. */
  complete(ticket: Ticket): void
  /** Reports a failure outside the handler. */
  report(error: unknown, where: string): void
}

interface Pending {
  event: EventEnvelope
  ctx: HandleContext
  done: (outcome: Outcome) => void
}

/**
 * Gathers the events the dispatcher starts into batches for a batch handler. Each event comes
 * through the single-event path (middleware, filters, retries, dead letters, lanes), and its
 * attempt waits here for the outcome the batch gives it. Lanes hold one event per key at a
 * time, so a batch has at most one event of each partition key and per-key order stays as it is
 * for single events.
 */
export class BatchCollector<M extends { attempt: number }, S> {
  private pending: Pending[] = []
  private timer: ReturnType<typeof setTimeout> | undefined
  private immediate: ReturnType<typeof setImmediate> | undefined

  constructor(
    private readonly handler: BatchHandler,
    private readonly settings: ResolvedBatch,
    private readonly owner: BatchOwner<M, S>,
  ) {}

  /** Adds one event's attempt; resolves with the outcome its batch gave it. */
  add(event: EventEnvelope, ctx: HandleContext): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => this.push(event, ctx, resolve))
  }

  /**
   * Adds an event's first attempt whose dispatcher run stays open (`LATER`): its outcome is
   * concluded and the run completed from here, with no promise per event on the way.
   */
  later(
    message: M,
    slot: S,
    event: EventEnvelope,
    ctx: HandleContext,
    ticket: Ticket,
  ): typeof LATER {
    const { owner } = this
    const complete = () => owner.complete(ticket)
    this.push(event, ctx, (outcome) => {
      let next: Promise<void> | undefined
      try {
        next = owner.conclude(message, slot, event, message.attempt, ctx, outcome)
      } catch (error) {
        owner.report(error, 'settle')
      }
      if (next === undefined) return complete()
      next.then(complete, (error: unknown) => {
        owner.report(error, 'settle')
        complete()
      })
    })
    return LATER
  }

  private push(event: EventEnvelope, ctx: HandleContext, done: (outcome: Outcome) => void): void {
    this.pending.push({ event, ctx, done })
    if (this.pending.length >= this.settings.maxSize) this.flush()
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.settings.maxWaitMs)
    }
  }

  /**
   * The dispatcher started all it could: the batch goes once this turn's microtasks ran, so the
   * events that the settling of a batch frees (each in its own microtask) go together.
   */
  soon(): void {
    this.immediate ??= setImmediate(() => this.flush())
  }

  private flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    if (this.immediate !== undefined) clearImmediate(this.immediate)
    this.timer = undefined
    this.immediate = undefined
    const batch = this.pending
    this.pending = []
    if (batch.length > 0) void this.run(batch)
  }

  private async run(batch: Pending[]): Promise<void> {
    const { owner } = this
    const context: BatchContext = {
      topic: owner.topic,
      group: owner.group,
      contexts: batch.map((p) => p.ctx),
      // Every event's context carries the subscription's one signal.
      signal: batch[0]!.ctx.signal,
    }
    let result: unknown
    try {
      result = await this.handler(
        batch.map((p) => p.event),
        context,
      )
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error))
      for (const p of batch) p.done(owner.classify(failure, p.ctx.attempt))
      return
    }
    if (result !== undefined && !Array.isArray(result)) {
      const error = new ConfigurationError(
        'A batch handler returns nothing or an array of outcomes by position',
        { field: 'handler' },
      )
      for (const p of batch) p.done(owner.classify(error, p.ctx.attempt))
      return
    }
    const outcomes = (result ?? []) as unknown[]
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!
      p.done(owner.fromHandler(outcomes[i], p.ctx.attempt))
    }
  }
}
