import type { Codec } from './codec.js'
import { DEAD_LETTER_TYPE, type DeadLetterEntry, deadLetterEntry } from './dead-letter.js'
import { Dispatcher, type DispatcherStats, type Slot } from './dispatcher.js'
import type { EventEnvelope } from './envelope.js'
import { toError } from './errors.js'
import { typeMatcher } from './glob.js'
import { allIdle, composeHandle, type HandleContext, type HandleMiddleware } from './middleware.js'
import { checkKeys, checkNumber, checkString } from './options.js'
import { isOutcome, type Outcome } from './outcome.js'
import { type RetryOptions, type RetryPolicy, retryPolicy } from './retry-policy.js'
import type {
  InboundMessage,
  OutboundMessage,
  StartAt,
  Transport,
  TransportSubscription,
} from './transport.js'

/**
 * Handles one event. Return nothing (or `outcome.success()`) when done, throw to retry per the
 * policy, or return `outcome.retry()`, `outcome.deadLetter(reason)` or `outcome.drop()`.
 */
export type EventHandler<T = unknown> = (event: EventEnvelope<T>, ctx: HandleContext<T>) => unknown

/** Options of `bus.subscribe`. */
export interface SubscribeOptions {
  /** Consumer group: same group load-balances, different groups each get every event. @default 'default' */
  group?: string
  /** Handlers running at once. Same partition key still runs in order. @default 1 */
  concurrency?: number
  /** Most events held (running, queued in lanes, retrying) before the transport is read again. @default max(16, 2 × concurrency) */
  prefetch?: number
  /** Retry policy. */
  retry?: RetryOptions
  /** Dead-letter destination; `false` drops given-up events after the `onDeadLetter` hook. @default { topic: `${topic}.dlq` } */
  deadLetter?: { topic?: string } | false
  /** Where a new group starts. @default 'latest' */
  startAt?: StartAt
  /** Only handle these event types (globs: `user.*`, `user.**`); others are acknowledged and skipped. */
  types?: string | readonly string[]
  /** Only handle events of these tenants; others are acknowledged and skipped. */
  tenant?: string | readonly string[]
  /** Upper bound for `close()` to drain running handlers. @default the bus's closeTimeoutMs */
  closeTimeoutMs?: number
}

/** Observation hooks of the bus. */
export interface BusHooks {
  /** A handling attempt failed and will be retried after `delayMs`. */
  onRetry?(info: { ctx: HandleContext; error: Error | undefined; delayMs: number }): void
  /** An event was dead-lettered (or dropped, when dead-lettering is off). */
  onDeadLetter?(entry: DeadLetterEntry): void
  /** An event was handled successfully. */
  onHandled?(ctx: HandleContext): void
  /** Something failed outside a handler (acks, dead-letter publishes, the pull loop). */
  onError?(error: Error, where: string): void
}

const SUBSCRIBE_KEYS = [
  'group',
  'concurrency',
  'prefetch',
  'retry',
  'deadLetter',
  'startAt',
  'types',
  'tenant',
  'closeTimeoutMs',
]

interface SubscriptionInit {
  topic: string
  handler: EventHandler
  options: SubscribeOptions
  transport: Transport
  codec: Codec
  middleware: readonly HandleMiddleware[]
  gates: readonly ((() => boolean) | undefined)[]
  hooks: BusHooks
  deadLetterSuffix: string
  defaultCloseTimeoutMs: number
  source: string
  publishRaw(topic: string, messages: OutboundMessage[]): Promise<void>
  toMessage(event: EventEnvelope): OutboundMessage
  reply(request: EventEnvelope, data: unknown, init?: { type?: string }): Promise<void>
  onClosed(subscription: Subscription): void
}

/** A running subscription. Close it to stop; `await using` closes it too. */
export class Subscription implements AsyncDisposable {
  /** Topic subscribed to. */
  readonly topic: string
  /** Consumer group. */
  readonly group: string
  private readonly init: SubscriptionInit
  private readonly policy: RetryPolicy
  private readonly concurrency: number
  private readonly prefetch: number
  private readonly startAt: StartAt
  private readonly deadLetterTopic: string | undefined
  private readonly closeTimeoutMs: number
  private readonly accepts: (event: EventEnvelope) => boolean
  private readonly chain: (ctx: HandleContext) => Promise<Outcome>
  /** Per-middleware `enabled` gates; when all are idle the synchronous fast path may run. */
  private readonly gates: readonly ((() => boolean) | undefined)[]
  private dispatcher: Dispatcher | undefined
  private source: TransportSubscription | undefined
  private closing: Promise<void> | undefined

  /** @internal Created by `bus.subscribe`. */
  constructor(init: SubscriptionInit) {
    const { options } = init
    checkKeys(options, SUBSCRIBE_KEYS, 'subscribe')
    this.init = init
    this.topic = init.topic
    this.group = checkString(options.group ?? 'default', 'subscribe.group')
    this.concurrency = checkNumber(options.concurrency ?? 1, 'subscribe.concurrency', {
      min: 1,
      integer: true,
    })
    this.prefetch = checkNumber(
      options.prefetch ?? Math.max(16, this.concurrency * 2),
      'subscribe.prefetch',
      {
        min: 1,
        integer: true,
      },
    )
    this.policy = retryPolicy(options.retry)
    this.startAt = options.startAt ?? 'latest'
    const deadLetter = options.deadLetter ?? {}
    if (deadLetter !== false) checkKeys(deadLetter, ['topic'], 'subscribe.deadLetter')
    this.deadLetterTopic =
      deadLetter === false
        ? undefined
        : (deadLetter.topic ?? `${init.topic}${init.deadLetterSuffix}`)
    this.closeTimeoutMs = checkNumber(
      options.closeTimeoutMs ?? init.defaultCloseTimeoutMs,
      'subscribe.closeTimeoutMs',
      {
        min: 0,
      },
    )
    this.accepts = eventFilter(options)
    this.chain = composeHandle(init.middleware, (ctx) => this.runHandler(ctx))
    this.gates = init.gates
  }

  /** @internal Attaches to the transport and starts the dispatcher. */
  async start(): Promise<void> {
    this.source = await this.init.transport.subscribe(this.topic, {
      group: this.group,
      startAt: this.startAt,
      prefetch: this.prefetch,
    })
    this.dispatcher = new Dispatcher(
      this.source,
      this.concurrency,
      this.prefetch,
      (message, slot) => this.process(message, slot),
      (error) => this.report(error, 'pull'),
    )
    this.dispatcher.start()
  }

  /** Live dispatcher figures: handlers in flight and events held. */
  stats(): DispatcherStats {
    return this.dispatcher?.stats() ?? { inFlight: 0, held: 0, maxInFlight: 0, maxHeld: 0 }
  }

  /**
   * Stops taking new events, lets running handlers finish and acknowledge (up to `timeoutMs`),
   * returns queued ones to the transport. Safe to call twice.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= this.doClose(options.timeoutMs ?? this.closeTimeoutMs)
    return this.closing
  }

  /** `await using sub = await bus.subscribe(...)` closes at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  private async doClose(timeoutMs: number): Promise<void> {
    try {
      const finished = await this.dispatcher?.stop(timeoutMs, (message) =>
        this.settle(() => message.nack({ delayMs: 0, attempt: message.attempt - 1 }), 'give back'),
      )
      if (finished === false) {
        this.report(
          new Error(
            `Handlers still running after ${timeoutMs} ms; their events will be redelivered`,
          ),
          'close',
        )
      }
      await this.source?.close()
    } finally {
      this.init.onClosed(this)
    }
  }

  /**
   * Handles one message. Returns `undefined` when everything finished synchronously (a sync
   * handler that succeeded, no middleware, a sync ack): the common fast path costs no promise.
   */
  private process(message: InboundMessage, slot: Slot): Promise<void> | undefined {
    if (this.gates.length > 0 && !allIdle(this.gates)) return this.processAsync(message, slot)
    let event: EventEnvelope
    try {
      event = message.event ?? this.init.codec.decode(message)
    } catch {
      return this.processAsync(message, slot)
    }
    if (!this.accepts(event)) return this.processAsync(message, slot, event)
    // A handler declared with exactly one parameter never sees the context: skip building it.
    const ctx =
      this.init.handler.length !== 1 || this.init.hooks.onHandled !== undefined
        ? this.context(event, message, message.attempt, this.dispatcher!.signal)
        : undefined
    let value: unknown
    try {
      value = this.init.handler(event, ctx as HandleContext)
    } catch (error) {
      return this.processAsync(message, slot, event, this.classify(toError(error), message.attempt))
    }
    if (value !== undefined && value !== null) {
      if (typeof (value as PromiseLike<unknown>).then === 'function') {
        return this.processAsync(message, slot, event, undefined, value as PromiseLike<unknown>)
      }
      if (isOutcome(value) && value.kind !== 'success') {
        return this.processAsync(message, slot, event, this.fromHandler(value, message.attempt))
      }
    }
    try {
      const pending = message.ack()
      if (pending !== undefined) return this.finishAck(pending, ctx)
    } catch (error) {
      this.report(toError(error), 'ack')
      return undefined
    }
    if (ctx !== undefined && this.init.hooks.onHandled !== undefined) {
      this.hook(() => this.init.hooks.onHandled?.(ctx))
    }
    return undefined
  }

  private async finishAck(pending: Promise<void>, ctx: HandleContext | undefined): Promise<void> {
    try {
      await pending
    } catch (error) {
      this.report(toError(error), 'ack')
      return
    }
    if (ctx !== undefined) this.hook(() => this.init.hooks.onHandled?.(ctx))
  }

  private async processAsync(
    message: InboundMessage,
    slot: Slot,
    decoded?: EventEnvelope,
    firstOutcome?: Outcome,
    firstResult?: PromiseLike<unknown>,
  ): Promise<void> {
    let event: EventEnvelope
    try {
      event = decoded ?? message.event ?? this.init.codec.decode(message)
    } catch (error) {
      const err = toError(error)
      await this.deadLetter(
        message,
        undefined,
        err,
        `could not decode: ${err.message}`,
        message.attempt,
      )
      return
    }
    if (!this.accepts(event)) {
      await this.settle(() => message.ack(), 'ack')
      return
    }
    const signal = this.dispatcher!.signal
    let attempt = message.attempt
    for (;;) {
      const ctx = this.context(event, message, attempt, signal)
      let result: Outcome
      if (firstOutcome !== undefined) {
        result = firstOutcome
        firstOutcome = undefined
      } else if (firstResult !== undefined) {
        result = await this.settleResult(firstResult, attempt)
        firstResult = undefined
      } else {
        try {
          result = await this.chain(ctx)
        } catch (error) {
          // Thrown by middleware, not the handler (the terminal step never throws).
          result = this.classify(toError(error), attempt)
        }
      }
      switch (result.kind) {
        case 'success':
        case 'drop':
          await this.settle(() => message.ack(), 'ack')
          if (result.kind === 'success') this.hook(() => this.init.hooks.onHandled?.(ctx))
          return
        case 'dead-letter':
          await this.deadLetter(
            message,
            event,
            result.error ?? new Error(result.reason),
            result.reason,
            attempt,
          )
          return
        case 'retry': {
          const delayMs = result.delayMs ?? this.policy.delayFor(attempt)
          this.hook(() => this.init.hooks.onRetry?.({ ctx, error: result.error, delayMs }))
          if (delayMs <= this.policy.inProcessMaxDelayMs && !signal.aborted) {
            const started = Date.now()
            const waited = await slot.releaseWhile(sleep(delayMs, signal))
            if (waited) {
              attempt++
              continue
            }
            const remaining = Math.max(0, delayMs - (Date.now() - started))
            await this.settle(() => message.nack({ delayMs: remaining, attempt }), 'nack')
            return
          }
          await this.settle(() => message.nack({ delayMs, attempt }), 'nack')
          return
        }
      }
    }
  }

  private async runHandler(ctx: HandleContext): Promise<Outcome> {
    let value: unknown
    try {
      value = this.init.handler(ctx.event, ctx)
    } catch (error) {
      return this.classify(toError(error), ctx.attempt)
    }
    // Await only real promises: a synchronous handler costs no extra tick.
    if (value !== null && typeof (value as PromiseLike<unknown>)?.then === 'function') {
      return this.settleResult(value as PromiseLike<unknown>, ctx.attempt)
    }
    return this.fromHandler(value, ctx.attempt)
  }

  private async settleResult(pending: PromiseLike<unknown>, attempt: number): Promise<Outcome> {
    try {
      return this.fromHandler(await pending, attempt)
    } catch (error) {
      return this.classify(toError(error), attempt)
    }
  }

  /** Turns what a handler returned into an outcome; a retry past the budget dead-letters. */
  private fromHandler(value: unknown, attempt: number): Outcome {
    if (!isOutcome(value)) return SUCCESS
    if (value.kind === 'retry' && attempt >= this.policy.maxAttempts) {
      return {
        kind: 'dead-letter',
        reason: `retry requested after the last of ${this.policy.maxAttempts} attempts`,
        error: value.error,
      }
    }
    return value
  }

  private classify(error: Error, attempt: number): Outcome {
    const decision = this.policy.decide(error, attempt)
    return decision.retry
      ? { kind: 'retry', delayMs: decision.delayMs, error }
      : { kind: 'dead-letter', reason: decision.reason, error }
  }

  private context(
    event: EventEnvelope,
    message: InboundMessage,
    attempt: number,
    signal: AbortSignal,
  ): HandleContext {
    return new DeliveryContext(this, event, message, attempt, signal)
  }

  /** @internal Answers a request event; used by `HandleContext.reply`. */
  replyTo(event: EventEnvelope, data: unknown, init?: { type?: string }): Promise<void> {
    return this.init.reply(event, data, init)
  }

  /** @internal The retry budget. */
  get maxAttempts(): number {
    return this.policy.maxAttempts
  }

  /** @internal The transport's name. */
  get transportName(): string {
    return this.init.transport.name
  }

  private async deadLetter(
    message: InboundMessage,
    event: EventEnvelope | undefined,
    error: Error,
    reason: string,
    attempts: number,
  ): Promise<void> {
    const entry = deadLetterEntry({
      message,
      event,
      codec: this.init.codec,
      error,
      reason,
      attempts,
      group: this.group,
    })
    if (this.deadLetterTopic !== undefined) {
      const record: EventEnvelope = {
        specversion: '1.0',
        id: crypto.randomUUID(),
        source: this.init.source,
        type: DEAD_LETTER_TYPE,
        time: entry.deadLetteredAt,
        data: entry,
      }
      if (event?.id !== undefined) record.subject = event.id
      if (event?.correlationid !== undefined) record.correlationid = event.correlationid
      if (event?.tenantid !== undefined) record.tenantid = event.tenantid
      if (message.key !== undefined) record.partitionkey = message.key
      try {
        await this.init.publishRaw(this.deadLetterTopic, [this.init.toMessage(record)])
      } catch (publishError) {
        // Never ack what could not be parked: the broker redelivers and we try again.
        this.report(toError(publishError), 'dead-letter publish')
        await this.settle(() => message.nack({ delayMs: 1_000, attempt: attempts }), 'nack')
        return
      }
    }
    this.hook(() => this.init.hooks.onDeadLetter?.(entry))
    await this.settle(() => message.ack(), 'ack')
  }

  private async settle(action: () => void | Promise<void>, where: string): Promise<void> {
    try {
      const pending = action()
      if (pending !== undefined) await pending
    } catch (error) {
      this.report(toError(error), where)
    }
  }

  private report(error: unknown, where: string): void {
    this.hook(() =>
      this.init.hooks.onError?.(toError(error), `${this.topic}/${this.group}: ${where}`),
    )
  }

  private hook(call: () => void): void {
    try {
      call()
    } catch {
      // Hooks observe; they must not break delivery.
    }
  }
}

const SUCCESS: Outcome = Object.freeze({ kind: 'success' })

/** The context of one attempt; a class, so no closures are allocated per event. */
class DeliveryContext implements HandleContext {
  readonly topic: string
  readonly group: string
  readonly maxAttempts: number
  readonly transport: string

  constructor(
    private readonly subscription: Subscription,
    readonly event: EventEnvelope,
    private readonly inbound: InboundMessage,
    readonly attempt: number,
    readonly signal: AbortSignal,
  ) {
    this.topic = subscription.topic
    this.group = subscription.group
    this.maxAttempts = subscription.maxAttempts
    this.transport = subscription.transportName
  }

  get message(): HandleContext['message'] {
    return { headers: this.inbound.headers, position: this.inbound.position }
  }

  reply(data: unknown, init?: { type?: string }): Promise<void> {
    return this.subscription.replyTo(this.event, data, init)
  }
}

function eventFilter(options: SubscribeOptions): (event: EventEnvelope) => boolean {
  const byType = options.types === undefined ? undefined : typeMatcher(options.types)
  const tenants =
    options.tenant === undefined
      ? undefined
      : new Set(typeof options.tenant === 'string' ? [options.tenant] : options.tenant)
  if (byType === undefined && tenants === undefined) return () => true
  return (event) =>
    (byType === undefined || byType(event.type)) &&
    (tenants === undefined || (event.tenantid !== undefined && tenants.has(event.tenantid)))
}

function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(!signal.aborted)
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer)
      resolve(false)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve(true)
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
