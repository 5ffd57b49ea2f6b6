import { HttpProblem } from './problem.js'

/** Per-tenant token buckets. */
export interface RateLimitOptions {
  /** Tokens added per second (the sustained request rate of one tenant). */
  ratePerSecond: number
  /** Bucket size (the burst a tenant may send at once). @default ratePerSecond */
  burst?: number
  /** Most buckets kept; the least recently used is dropped past it. @default 10000 */
  maxTenants?: number
}

interface Bucket {
  tokens: number
  at: number
}

/** A token bucket per key; `take` refuses with 429 and `Retry-After` when a bucket is empty. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>()
  private readonly rate: number
  private readonly burst: number
  private readonly maxTenants: number

  constructor(
    options: RateLimitOptions,
    private readonly now: () => number = Date.now,
  ) {
    if (!(options.ratePerSecond > 0)) throw new Error('rateLimit.ratePerSecond must be above 0')
    this.rate = options.ratePerSecond
    this.burst = options.burst ?? options.ratePerSecond
    if (!(this.burst >= 1)) throw new Error('rateLimit.burst must be at least 1')
    this.maxTenants = options.maxTenants ?? 10_000
  }

  /**
   * Takes `cost` tokens from the bucket of `key`.
   * @throws {HttpProblem} 429 with `Retry-After` (seconds) when there are not enough.
   */
  take(key: string, cost = 1): void {
    const now = this.now()
    let bucket = this.buckets.get(key)
    if (bucket === undefined) {
      bucket = { tokens: this.burst, at: now }
      if (this.buckets.size >= this.maxTenants) {
        const oldest = this.buckets.keys().next().value
        if (oldest !== undefined) this.buckets.delete(oldest)
      }
    } else {
      this.buckets.delete(key)
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rate)
      bucket.at = now
    }
    this.buckets.set(key, bucket)
    const needed = Math.min(cost, this.burst)
    if (bucket.tokens >= needed) {
      bucket.tokens -= needed
      return
    }
    const wait = Math.max(1, Math.ceil((needed - bucket.tokens) / this.rate))
    throw new HttpProblem(
      429,
      `Rate limit of ${this.rate} requests/s (burst ${this.burst}) reached for this tenant; retry after ${wait} s`,
      { headers: { 'retry-after': String(wait) } },
    )
  }
}
