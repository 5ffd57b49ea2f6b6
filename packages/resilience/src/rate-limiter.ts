import { ConfigurationError } from '@switchyard/core'
import { checkKeys, checkNumber, sleep } from '@switchyard/core/transport'
import { RateLimitedError } from './errors.js'

/** Options of one rate limit. */
export interface RateLimitOptions {
  /** Calls let through per second, on average. Fractions are allowed (`0.5`: one every 2 s). */
  perSecond: number
  /**
   * Calls let through at once after a quiet spell, before the rate applies. The default keeps
   * every call `1 / perSecond` apart, so the rate holds over any window. @default 1
   */
  burst?: number
  /**
   * What a call over the limit does: `'wait'` until its turn (calls keep their order), or
   * `'fail'` at once with a `RateLimitedError` carrying `retryAfterMs`. @default 'wait'
   */
  mode?: 'wait' | 'fail'
  /**
   * In `'wait'` mode, the longest a call waits; one that would wait longer fails with a
   * `RateLimitedError` instead of joining the queue. @default no bound
   */
  maxWaitMs?: number
}

/** A rate limit resolved from its options. */
export interface ResolvedRateLimit {
  intervalMs: number
  toleranceMs: number
  mode: 'wait' | 'fail'
  maxWaitMs: number
}

const KEYS = ['perSecond', 'burst', 'mode', 'maxWaitMs']

/** Validates rate-limit options. @throws {ConfigurationError} naming the field. */
export function resolveRateLimit(
  options: RateLimitOptions,
  path: string,
  extraKeys: readonly string[] = [],
): ResolvedRateLimit {
  checkKeys(options, [...KEYS, ...extraKeys], path)
  if (options === undefined || options === null) {
    throw new ConfigurationError(`${path} needs { perSecond }`, { field: path })
  }
  const perSecond = checkNumber(options.perSecond, `${path}.perSecond`, { min: Number.MIN_VALUE })
  const burst = checkNumber(options.burst ?? 1, `${path}.burst`, { min: 1, integer: true })
  const mode = options.mode ?? 'wait'
  if (mode !== 'wait' && mode !== 'fail') {
    throw new ConfigurationError(`${path}.mode must be 'wait' or 'fail'`, { field: `${path}.mode` })
  }
  const maxWaitMs = checkNumber(
    options.maxWaitMs ?? Number.POSITIVE_INFINITY,
    `${path}.maxWaitMs`,
    {
      min: 0,
    },
  )
  const intervalMs = 1_000 / perSecond
  return { intervalMs, toleranceMs: (burst - 1) * intervalMs, mode, maxWaitMs }
}

/**
 * One token bucket, kept as a theoretical arrival time (the GCRA form): each call moves it one
 * interval on, and a call may start once it is within `burst` intervals of now. A waiting call
 * has its slot reserved when it asks, so waiting calls keep their order and late timers do not
 * lower the rate.
 */
export class RateLimiter {
  /** When the bucket is next empty of debt: a call at `tat - tolerance` or later conforms. */
  private tat = 0

  constructor(private readonly limit: ResolvedRateLimit) {}

  /** True when the limiter holds no debt at `now`: forgetting it changes nothing. */
  idle(now: number): boolean {
    return this.tat <= now
  }

  /**
   * Takes one slot: resolves at once or after its turn, or throws a `RateLimitedError`. Returns
   * `undefined` when the call may start at once (no promise, no extra turn of the event loop).
   * @throws {RateLimitedError} in `'fail'` mode when over the limit, or past `maxWaitMs`.
   */
  take(signal?: AbortSignal, tenant?: string, now = Date.now()): Promise<boolean> | undefined {
    const { intervalMs, toleranceMs, mode, maxWaitMs } = this.limit
    const tat = Math.max(this.tat, now)
    const waitMs = Math.max(0, tat - toleranceMs - now)
    if (waitMs > 0 && (mode === 'fail' || waitMs > maxWaitMs)) {
      const who = tenant === undefined ? '' : ` for tenant "${tenant}"`
      throw new RateLimitedError(
        `Rate limit of ${round(1_000 / intervalMs)}/s reached${who}; retry in ${Math.ceil(waitMs)} ms`,
        tenant === undefined
          ? { retryAfterMs: Math.ceil(waitMs) }
          : { retryAfterMs: Math.ceil(waitMs), tenant },
      )
    }
    this.tat = tat + intervalMs
    return waitMs > 0 ? sleep(waitMs, signal) : undefined
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100
}

/**
 * Rate limiters by key (a tenant), created on first use. Buckets that hold no debt are dropped
 * now and then, so a stream of one-off keys does not grow memory without bound.
 */
export class KeyedRateLimiter {
  private readonly buckets = new Map<string, RateLimiter>()
  private pruneAt = 1_024

  constructor(private readonly limitFor: (key: string) => ResolvedRateLimit) {}

  /** Takes one slot from `key`'s bucket (see `RateLimiter.take`). */
  take(key: string, signal?: AbortSignal): Promise<boolean> | undefined {
    const now = Date.now()
    let bucket = this.buckets.get(key)
    if (bucket === undefined) {
      if (this.buckets.size >= this.pruneAt) this.prune(now)
      bucket = new RateLimiter(this.limitFor(key))
      this.buckets.set(key, bucket)
    }
    return bucket.take(signal, key, now)
  }

  /** Buckets held right now (for tests and stats). */
  get size(): number {
    return this.buckets.size
  }

  private prune(now: number): void {
    for (const [key, bucket] of this.buckets) if (bucket.idle(now)) this.buckets.delete(key)
    this.pruneAt = Math.max(1_024, this.buckets.size * 2)
  }
}
