import { BatchCollector, type BatchHandler } from './batch.js'
import { deadLetterEntry, deadLetterEvent } from './dead-letter-entry.js'
import { DeliveryContext, eventFilter } from './delivery-context.js'
import { Dispatcher, type DispatcherStats, type Slot } from './dispatcher.js'
import type { EventEnvelope, EventInput } from './envelope.js'
import { ClosedError, HandlerError, toError } from './errors.js'
import type { LATER, Ticket } from './later.js'
import { allIdle, composeHandle, type HandleContext } from './middleware.js'
import { type Outcome, outcomeOf } from './outcome.js'
import { quietly, settleOnReceipt, settleQuietly } from './settle.js'
import { type ResolvedSubscribeOptions, resolveSubscribeOptions } from './subscribe-options.js'
import type { SubscriptionInit } from './subscription-init.js'
import { sleep } from './timing.js'
import type { InboundMessage, TransportSubscription } from './transport.js'

/** What handling a message gives the dispatcher. */
type Run = Promise<void> | undefined | typeof LATER

/** A running subscription. Close it to stop; `await using` closes it too. */
export class Subscription implements AsyncDisposable {
  /** Topic subscribed to. */
  readonly topic: string
  /** Consumer group. */
  readonly group: string
  /** @internal For delivery contexts: the retry budget, the inbox flag, the transport's name. */
  readonly maxAttempts: number
  readonly ephemeral: boolean
  readonly transportName: string
  private readonly init: SubscriptionInit
  /** Validated options with the bus's defaults. */
  private readonly resolved: ResolvedSubscribeOptions
  /** The broker delays redeliveries itself; otherwise every retry delay is waited out here. */
  private readonly nativeDelay: boolean
  /** `delivery: 'exactly-once'`: publishes are held and acked with the event's position. */
  private readonly exactlyOnce: boolean
  private readonly accepts: (event: EventEnvelope) => boolean
  private readonly chain: (ctx: HandleContext) => Promise<Outcome>
  /** Per-middleware `enabled` gates; when all are idle the handler is called directly. */
  private readonly gates: readonly ((() => boolean) | undefined)[]
  private dispatcher: Dispatcher | undefined
  private readonly batcher: BatchCollector<InboundMessage, Slot> | undefined
  /** A handler declared with one parameter, no `onHandled` hook, no batch: no context needed. */
  private readonly needsContext: boolean
  private source: TransportSubscription | undefined
  private closing: Promise<void> | undefined

  /** @internal Created by `bus.subscribe`. */
  constructor(init: SubscriptionInit) {
    const { options } = init
    this.init = init
    this.topic = init.topic
    this.resolved = resolveSubscribeOptions(options, init.topic, init)
    this.group = this.resolved.group
    this.maxAttempts = this.resolved.policy.maxAttempts
    this.ephemeral = init.ephemeral === true
    this.transportName = init.transport.name
    const { batch } = this.resolved
    this.exactlyOnce = this.resolved.delivery === 'exactly-once'
    // A batch handler: each event's attempt waits in the collector for its batch's outcome.
    this.needsContext =
      init.handler.length !== 1 || init.hooks.onHandled !== undefined || !!batch || this.exactlyOnce
    if (batch)
      this.batcher = new BatchCollector(init.handler as unknown as BatchHandler, batch, this)
    this.nativeDelay = init.transport.features.nativeDelay && init.ephemeral !== true
    this.accepts = eventFilter(options)
    this.chain = composeHandle(init.middleware, async (ctx) =>
      this.call(ctx.event, ctx, ctx.attempt),
    )
    this.gates = init.gates
  }

  /** @internal Attaches to the transport and starts the dispatcher. */
  async start(): Promise<void> {
    let source: TransportSubscription
    try {
      source = await this.init.transport.subscribe(this.topic, {
        group: this.group,
        startAt: this.resolved.startAt,
        prefetch: this.resolved.prefetch,
        ...(this.init.ephemeral === true ? { ephemeral: true } : {}),
        ...(this.exactlyOnce ? { exactlyOnce: true } : {}),
      })
    } catch (error) {
      // A client closed under a pending subscribe fails in its own words: close() won.
      if (this.closing !== undefined) throw new ClosedError()
      throw error
    }
    if (this.closing !== undefined) {
      // close() came while the transport attached: it wins, and nothing is left running.
      await source.close().catch((error: unknown) => this.report(error, 'close'))
      throw new ClosedError()
    }
    this.source = source
    this.dispatcher = new Dispatcher(
      this.source,
      this.resolved.concurrency,
      this.resolved.prefetch,
      {
        process:
          this.resolved.delivery === 'at-most-once'
            ? (message, slot) =>
                settleOnReceipt(
                  message,
                  (m) => this.handle(m, slot, null) as Promise<void> | undefined,
                  (e) => this.report(e, 'ack'),
                )
            : (message, slot, ticket) => this.handle(message, slot, ticket),
        // Never started, so the attempt it came with is not used up.
        giveBack: async (message) =>
          this.settle(
            () => message.nack({ delayMs: 0, attempt: message.attempt - 1 }),
            'give back',
          ),
        onError: (error) => this.report(error, 'pull'),
        started: this.batcher && (() => this.batcher!.soon()),
      },
    )
    this.dispatcher.start()
  }

  /** Stops pulling and starting handlers; membership stays, running ones finish, held ones wait. */
  pause(): void {
    this.dispatcher?.pause()
  }

  /** Resumes after `pause()`. */
  resume(): void {
    this.dispatcher?.resume()
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
    this.closing ??= this.doClose(options.timeoutMs ?? this.resolved.closeTimeoutMs)
    return this.closing
  }

  /** `await using sub = await bus.subscribe(...)` closes at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  private async doClose(timeoutMs: number): Promise<void> {
    try {
      const finished = await this.dispatcher?.stop(timeoutMs)
      const late = `Handlers still running after ${timeoutMs} ms; their events will be redelivered`
      if (finished === false) this.report(new Error(late), 'close')
      await this.source?.close()
    } finally {
      this.init.onClosed()
    }
  }

  /**
   * Decode, filter, then attempts until an outcome settles it; `undefined` when all was sync.
   * With the run's ticket (`null`: none), a batch attempt leaves the run open (`LATER`).
   */
  private handle(message: InboundMessage, slot: Slot, ticket: Ticket | null): Run {
    let event: EventEnvelope
    try {
      event = message.event ?? this.init.codec.decode(message)
    } catch (error) {
      const err = toError(error)
      const reason = `could not decode: ${err.message}`
      return this.deadLetter(message, slot, undefined, err, reason, message.attempt)
    }
    if (!this.accepts(event)) return this.settle(() => message.ack(), 'ack')
    const { maxAttempts } = this.resolved.policy
    if (message.attempt > maxAttempts) {
      // Its earlier attempts never settled (a hanging handler, a member that died): the budget
      // holds for abandonment as for failures.
      const reason = `attempt ${message.attempt} is past retry.maxAttempts (${maxAttempts}): earlier deliveries did not settle it`
      const error = new HandlerError(reason)
      return this.deadLetter(message, slot, event, error, reason, message.attempt - 1)
    }
    if (ticket !== null && this.batcher !== undefined && allIdle(this.gates)) {
      const ctx = new DeliveryContext(
        this,
        event,
        message,
        message.attempt,
        this.dispatcher!.signal,
      )
      return this.batcher.later(message, slot, event, ctx, ticket)
    }
    return this.attempt(message, slot, event, message.attempt)
  }

  /** One handling attempt, then what its outcome asks for. */
  private attempt(
    message: InboundMessage,
    slot: Slot,
    event: EventEnvelope,
    attempt: number,
  ): Promise<void> | undefined {
    const direct = allIdle(this.gates)
    const ctx =
      direct && !this.needsContext
        ? undefined
        : new DeliveryContext(this, event, message, attempt, this.dispatcher!.signal)
    const result = direct
      ? this.call(event, ctx, attempt)
      : this.chain(ctx!).catch((error: unknown) => this.classify(toError(error), attempt))
    if (result instanceof Promise) {
      return result.then((outcome) => this.conclude(message, slot, event, attempt, ctx, outcome))
    }
    return this.conclude(message, slot, event, attempt, ctx, result)
  }

  /** Calls the handler; a promise only when the handler returned one. */
  private call(
    event: EventEnvelope,
    ctx: HandleContext | undefined,
    attempt: number,
  ): Outcome | Promise<Outcome> {
    if (this.batcher !== undefined) return this.batcher.add(event, ctx!)
    let value: unknown
    try {
      value = this.init.handler(event, ctx as HandleContext)
      // Inside the try: looking at a hostile return value (a revoked Proxy) throws too.
      if (value === null || typeof (value as PromiseLike<unknown>)?.then !== 'function') {
        return this.fromHandler(value, attempt)
      }
    } catch (error) {
      return this.classify(toError(error), attempt)
    }
    return this.settleResult(value as PromiseLike<unknown>, attempt)
  }

  private async settleResult(pending: PromiseLike<unknown>, attempt: number): Promise<Outcome> {
    try {
      return this.fromHandler(await pending, attempt)
    } catch (error) {
      return this.classify(toError(error), attempt)
    }
  }

  /** @internal Acts on an outcome: ack, retry or dead letter. */
  conclude(
    message: InboundMessage,
    slot: Slot,
    event: EventEnvelope,
    attempt: number,
    ctx: HandleContext | undefined,
    result: Outcome,
  ): Promise<void> | undefined {
    switch (result.kind) {
      case 'success':
      case 'drop': {
        // Under exactly-once the handler's held publishes go with the ack, in one transaction.
        const acked = this.settle(() => message.ack((ctx as DeliveryContext)?.staged), 'ack')
        const onHandled = this.init.hooks.onHandled
        if (result.kind === 'drop' || onHandled === undefined || ctx === undefined) return acked
        if (acked === undefined) quietly(() => onHandled(ctx))
        else return acked.then(() => quietly(() => onHandled(ctx)))
        return undefined
      }
      case 'dead-letter': {
        const error = result.error ?? new Error(result.reason)
        return this.deadLetter(message, slot, event, error, result.reason, attempt)
      }
      case 'retry':
        return this.retry(message, slot, event, attempt, ctx, result)
    }
  }

  /**
   * Waits out a retry delay in process (the slot is freed meanwhile, its lane waits) and tries
   * again, or hands the message back to a broker that delays redelivery itself.
   */
  private async retry(
    message: InboundMessage,
    slot: Slot,
    event: EventEnvelope,
    attempt: number,
    ctx: HandleContext | undefined,
    result: Outcome & { kind: 'retry' },
  ): Promise<void> {
    const delayMs = result.delayMs ?? this.resolved.policy.delayFor(attempt)
    const signal = this.dispatcher!.signal
    quietly(() =>
      this.init.hooks.onRetry?.({
        ctx: ctx ?? new DeliveryContext(this, event, message, attempt, signal),
        error: result.error,
        delayMs,
      }),
    )
    const long = delayMs > this.resolved.policy.inProcessMaxDelayMs
    if (long && this.nativeDelay) {
      return this.settle(() => message.nack({ delayMs, attempt }), 'nack')
    }
    const started = Date.now()
    if (await slot.releaseWhile(sleep(delayMs, signal), long)) {
      return this.attempt(message, slot, event, attempt + 1)
    }
    // Closing: give it back; a broker with native delay waits out the rest.
    const remaining = this.nativeDelay ? Math.max(0, delayMs - (Date.now() - started)) : 0
    return this.settle(() => message.nack({ delayMs: remaining, attempt }), 'nack')
  }

  /** @internal Turns what a handler returned into an outcome; a retry past the budget dead-letters. */
  fromHandler(value: unknown, attempt: number): Outcome {
    return outcomeOf(value, attempt, this.resolved.policy.maxAttempts)
  }

  /** @internal The outcome of a thrown error at this attempt, per the retry policy. */
  classify(error: Error, attempt: number): Outcome {
    const decision = this.resolved.policy.decide(error, attempt)
    return decision.retry
      ? { kind: 'retry', delayMs: decision.delayMs, error }
      : { kind: 'dead-letter', reason: decision.reason, error }
  }

  /** @internal Answers a request event; used by `HandleContext.reply`. */
  replyTo(event: EventEnvelope, data: unknown, init?: { type?: string }): Promise<void> {
    return this.init.reply(event, data, init)
  }

  /** @internal `HandleContext.publish`: held for the ack under exactly-once, else sent now. */
  async publishFrom<T>(ctx: DeliveryContext, topic: string, input: EventInput<T>) {
    if (!this.exactlyOnce) return this.init.publish(topic, input)
    ctx.staged ??= []
    return (await this.init.stage(topic, input, ctx.staged)) as EventEnvelope<T>
  }

  private async deadLetter(
    message: InboundMessage,
    slot: Slot,
    event: EventEnvelope | undefined,
    error: Error,
    reason: string,
    attempts: number,
  ): Promise<void> {
    const { codec, source } = this.init
    const entry = deadLetterEntry({
      message,
      event,
      codec,
      error,
      reason,
      attempts,
      group: this.group,
    })
    const topic = this.resolved.deadLetterTopic
    const record = topic && this.init.toMessage(deadLetterEvent(entry, source, message.key))
    const parked = record ? [{ topic: topic!, messages: [record] }] : undefined
    if (parked !== undefined && !this.exactlyOnce) {
      try {
        await this.init.publishRaw(topic!, parked[0]!.messages)
      } catch (publishError) {
        // Never ack what could not be parked: it comes back and we try again after a pause.
        this.report(toError(publishError), 'dead-letter publish')
        const signal = this.dispatcher!.signal
        if (!this.nativeDelay) await slot.releaseWhile(sleep(1_000, signal), true)
        const delayMs = this.nativeDelay ? 1_000 : 0
        return this.settle(() => message.nack({ delayMs, attempt: attempts }), 'nack')
      }
    }
    quietly(() => this.init.hooks.onDeadLetter?.(entry))
    // Under exactly-once the dead letter is stored in one transaction with the position.
    return this.settle(() => message.ack(this.exactlyOnce ? parked : undefined), 'ack')
  }

  private settle(action: () => void | Promise<void>, where: string): Promise<void> | undefined {
    return settleQuietly(action, this, where)
  }

  /** @internal Ends a dispatcher run that a batch left open. */
  complete(ticket: Ticket): void {
    this.dispatcher!.complete(ticket)
  }

  /** @internal Reports a failure outside a handler to the `onError` hook. */
  report(error: unknown, where: string): void {
    quietly(() =>
      this.init.hooks.onError?.(toError(error), `${this.topic}/${this.group}: ${where}`),
    )
  }
}
