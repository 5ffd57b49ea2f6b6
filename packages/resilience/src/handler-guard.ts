import {
  ConfigurationError,
  type EventBus,
  type EventEnvelope,
  type EventHandler,
  type EventRoutes,
  type HandleContext,
  isOutcome,
  outcome,
  type SubscribeOptions,
  type Subscription,
  type Subscriptions,
} from '@switchyard/core'
import { checkKeys, checkNumber, sleep } from '@switchyard/core/transport'
import { TaskCancelledError, TimeoutStrategy, timeout } from 'cockatiel'
import { type BreakerOptions, type BreakerState, CircuitBreaker } from './breaker.js'
import { HandlerTimeoutError } from './errors.js'
import { RateLimiter, resolveRateLimit } from './rate-limiter.js'

/** What `handlerGuard` protects a handler with; each part is off unless given. */
export interface HandlerGuardOptions {
  /**
   * A circuit breaker: once it opens, every attached subscription pauses (stops pulling, keeps
   * its group membership) until `halfOpenAfterMs` passed; then they resume and the next event is
   * a probe. Failures are thrown errors (per `isFailure`) and `outcome.retry()` results.
   */
  breaker?: BreakerOptions
  /**
   * Handled events per second across the attached subscriptions of this process. A handler
   * waits for its turn, so a full subscription stops pulling instead of failing events.
   */
  rateLimit?: { perSecond: number; burst?: number }
  /**
   * Longest a handler may run; past it the attempt fails with a retryable
   * `HandlerTimeoutError` and `ctx.signal` aborts. The handler itself keeps running.
   */
  timeoutMs?: number
}

/** Something a guard can pause: a subscription, or the subscriptions of one multi-topic call. */
export type GuardTarget = Subscription | Subscriptions

/** A guard for the handlers of one or more subscriptions; made by `handlerGuard`. */
export interface HandlerGuard {
  /** Wraps a handler (or each handler of routes) so its calls pass through the guard. */
  wrap<T = unknown>(handler: EventHandler<T>): EventHandler<T>
  wrap(routes: EventRoutes): EventRoutes
  /** Lets the breaker pause and resume `target` (returned, for chaining). */
  attach<S extends GuardTarget>(target: S): S
  /** `bus.subscribe` with the handler wrapped and the subscription attached: the usual way. */
  subscribe<T = unknown>(
    bus: EventBus,
    topic: string,
    handler: EventHandler<T> | EventRoutes,
    options?: SubscribeOptions,
  ): Promise<Subscription>
  subscribe<T = unknown>(
    bus: EventBus,
    topics: readonly string[],
    handler: EventHandler<T> | EventRoutes,
    options?: SubscribeOptions,
  ): Promise<Subscriptions>
  /** The breaker's state; `closed` when the guard has no breaker. */
  readonly state: BreakerState
  /** The circuit breaker, when one was configured (state, `onStateChange`, `retryAfterMs`). */
  readonly breaker: CircuitBreaker | undefined
}

const KEYS = ['breaker', 'rateLimit', 'timeoutMs']

/**
 * Guards subscription handlers with a circuit breaker that pauses pulling while open, a rate
 * limit on handled events, and a handler timeout. One guard protects one downstream: attach
 * every subscription whose handlers call it.
 * @throws {ConfigurationError} for unknown or out-of-range options.
 * @example
 * const guard = handlerGuard({ breaker: { consecutiveFailures: 5, halfOpenAfterMs: 10_000 } })
 * const sub = await guard.subscribe(bus, 'orders', handler, { group: 'billing' })
 */
export function handlerGuard(options: HandlerGuardOptions = {}): HandlerGuard {
  checkKeys(options, KEYS, 'handlerGuard')
  return new Guard(options)
}

class Guard implements HandlerGuard {
  readonly breaker: CircuitBreaker | undefined
  private readonly limiter: RateLimiter | undefined
  private readonly timeoutMs: number | undefined
  private readonly timeout: ReturnType<typeof timeout> | undefined
  private readonly targets = new Set<Subscription>()

  constructor(options: HandlerGuardOptions) {
    this.breaker =
      options.breaker === undefined
        ? undefined
        : new CircuitBreaker(options.breaker, 'handler', 'handlerGuard.breaker', isRetryOutcome)
    if (options.rateLimit !== undefined) {
      // Handlers always wait: failing an event for being early would burn its attempts.
      checkKeys(options.rateLimit, ['perSecond', 'burst'], 'handlerGuard.rateLimit')
      this.limiter = new RateLimiter(resolveRateLimit(options.rateLimit, 'handlerGuard.rateLimit'))
    }
    if (options.timeoutMs !== undefined) {
      this.timeoutMs = checkNumber(options.timeoutMs, 'handlerGuard.timeoutMs', { min: 1 })
      // Aggressive: the attempt ends at the deadline whether or not the handler watches its signal.
      this.timeout = timeout(this.timeoutMs, TimeoutStrategy.Aggressive)
    }
    this.breaker?.onStateChange(({ state }) => {
      for (const target of this.targets) {
        if (state === 'open') target.pause()
        else target.resume()
      }
    })
  }

  get state(): BreakerState {
    return this.breaker?.state ?? 'closed'
  }

  wrap<T = unknown>(handler: EventHandler<T>): EventHandler<T>
  wrap(routes: EventRoutes): EventRoutes
  wrap(given: EventHandler | EventRoutes): EventHandler | EventRoutes {
    if (typeof given === 'function') return this.guard(given)
    if (given === null || typeof given !== 'object' || Array.isArray(given)) {
      throw new ConfigurationError('wrap needs a handler function or routes', { field: 'handler' })
    }
    const routes: Record<string, EventHandler<never>> = {}
    for (const [pattern, route] of Object.entries(given)) {
      if (typeof route !== 'function') {
        throw new ConfigurationError(`The route for "${pattern}" must be a handler function`, {
          field: `handler.${pattern}`,
        })
      }
      routes[pattern] = this.guard(route as EventHandler) as EventHandler<never>
    }
    return routes
  }

  attach<S extends GuardTarget>(target: S): S {
    const list: readonly Subscription[] =
      'subscriptions' in target ? (target as Subscriptions).subscriptions : [target as Subscription]
    for (const subscription of list) {
      this.targets.add(subscription)
      if (this.state === 'open') subscription.pause()
    }
    return target
  }

  subscribe<T = unknown>(
    bus: EventBus,
    topic: string,
    handler: EventHandler<T> | EventRoutes,
    options?: SubscribeOptions,
  ): Promise<Subscription>
  subscribe<T = unknown>(
    bus: EventBus,
    topics: readonly string[],
    handler: EventHandler<T> | EventRoutes,
    options?: SubscribeOptions,
  ): Promise<Subscriptions>
  async subscribe(
    bus: EventBus,
    topic: string | readonly string[],
    handler: EventHandler | EventRoutes,
    options: SubscribeOptions = {},
  ): Promise<Subscription | Subscriptions> {
    const wrapped = this.wrap(handler as EventHandler)
    if (typeof topic === 'string') return this.attach(await bus.subscribe(topic, wrapped, options))
    return this.attach(await bus.subscribe(topic, wrapped, options))
  }

  private guard(handler: EventHandler): EventHandler {
    // Two parameters: core then always hands the context over.
    return (event, ctx) => this.run(handler, event, ctx)
  }

  private async run(
    handler: EventHandler,
    event: EventEnvelope,
    ctx: HandleContext,
  ): Promise<unknown> {
    // The wait is short (a few intervals at most, one per concurrency slot) and not cut by close:
    // a close that gave up on it would cost the event an attempt it never made.
    const turn = this.limiter?.take()
    if (turn !== undefined) await turn
    const breaker = this.breaker
    if (breaker === undefined) return this.invoke(handler, event, ctx)
    for (;;) {
      if (!(await breaker.whenNotOpen(ctx.signal))) {
        // Closing while the breaker is open: hand the event back untried, unless that would
        // dead-letter it (its last attempt); then it stays unsettled and the broker redelivers it.
        if (ctx.attempt < ctx.maxAttempts) return outcome.retry({ delayMs: breaker.retryAfterMs })
        await breaker.whenNotOpen()
      }
      try {
        return await breaker.execute(() => this.invoke(handler, event, ctx))
      } catch (error) {
        if (!breaker.refused(error)) throw error
        // A probe failed under us (open again), or cockatiel's clock lags ours by a moment.
        if (breaker.state !== 'open') await sleep(5)
      }
    }
  }

  private invoke(handler: EventHandler, event: EventEnvelope, ctx: HandleContext): unknown {
    const policy = this.timeout
    if (policy === undefined) return handler(event, ctx)
    return policy
      .execute(({ signal }) =>
        handler(event, withSignal(ctx, AbortSignal.any([ctx.signal, signal]))),
      )
      .catch((error: unknown) => {
        if (!(error instanceof TaskCancelledError)) throw error
        throw new HandlerTimeoutError({
          timeoutMs: this.timeoutMs!,
          topic: ctx.topic,
          group: ctx.group,
          eventId: event.id,
        })
      })
  }
}

function isRetryOutcome(result: unknown): boolean {
  return isOutcome(result) && result.kind === 'retry'
}

/** The same context with another signal (aborted at the deadline or when closing). */
function withSignal(ctx: HandleContext, signal: AbortSignal): HandleContext {
  return {
    event: ctx.event,
    topic: ctx.topic,
    group: ctx.group,
    attempt: ctx.attempt,
    maxAttempts: ctx.maxAttempts,
    transport: ctx.transport,
    ...(ctx.temporary === undefined ? {} : { temporary: ctx.temporary }),
    get message() {
      return ctx.message
    },
    signal,
    reply: (data, init) => ctx.reply(data, init),
    publish: (topic, input) => ctx.publish(topic, input),
  }
}
