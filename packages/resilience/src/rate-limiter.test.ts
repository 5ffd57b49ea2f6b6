import { ConfigurationError } from '@switchyard/core'
import { describe, expect, it, vi } from 'vitest'
import { RateLimitedError } from './errors.js'
import { KeyedRateLimiter, RateLimiter, resolveRateLimit } from './rate-limiter.js'

/** Start times `count` callers get at `now`, in ms after it (the wait each is told). */
function waits(limiter: RateLimiter, count: number, now: number): number[] {
  const out: number[] = []
  for (let i = 0; i < count; i++) {
    // take() hands back a promise for a wait; the wait itself is what the reservation says.
    const before = (limiter as unknown as { tat: number }).tat
    void limiter.take(undefined, undefined, now)
    out.push(Math.max(0, Math.max(before, now) - now))
  }
  return out
}

describe('rate limiter', () => {
  it('rate limiter - spaces calls 1 / perSecond apart with the default burst of 1', () => {
    const limiter = new RateLimiter(resolveRateLimit({ perSecond: 10 }, 'limit'))
    expect(waits(limiter, 4, 1_000)).toEqual([0, 100, 200, 300])
  })

  it('rate limiter - lets a burst through at once after a quiet spell, then the rate', () => {
    const limiter = new RateLimiter(resolveRateLimit({ perSecond: 10, burst: 3 }, 'limit'))
    const at = 1_000
    expect(limiter.take(undefined, undefined, at)).toBeUndefined()
    expect(limiter.take(undefined, undefined, at)).toBeUndefined()
    expect(limiter.take(undefined, undefined, at)).toBeUndefined()
    expect(limiter.take(undefined, undefined, at)).toBeInstanceOf(Promise)
    // A second later the bucket is full again.
    expect(limiter.take(undefined, undefined, at + 1_000)).toBeUndefined()
  })

  it("rate limiter - 'fail' mode refuses at once with retryAfterMs and takes no slot", () => {
    const limiter = new RateLimiter(resolveRateLimit({ perSecond: 4, mode: 'fail' }, 'limit'))
    expect(limiter.take(undefined, undefined, 0)).toBeUndefined()
    const refused = (() => {
      try {
        void limiter.take(undefined, 'acme', 100)
      } catch (error) {
        return error
      }
    })() as RateLimitedError
    expect(refused).toBeInstanceOf(RateLimitedError)
    expect(refused.retryAfterMs).toBe(150)
    expect(refused.tenant).toBe('acme')
    expect(refused.code).toBe('ERR_RATE_LIMITED')
    // The refusal reserved nothing: at 250 ms the next call passes.
    expect(limiter.take(undefined, undefined, 250)).toBeUndefined()
  })

  it('rate limiter - a wait longer than maxWaitMs fails instead of queueing', () => {
    const limiter = new RateLimiter(resolveRateLimit({ perSecond: 10, maxWaitMs: 150 }, 'limit'))
    void limiter.take(undefined, undefined, 0)
    void limiter.take(undefined, undefined, 0) // waits 100
    expect(() => limiter.take(undefined, undefined, 0)).toThrow(RateLimitedError) // would wait 200
  })

  it('rate limiter - options are checked and named', () => {
    expect(() => resolveRateLimit({ perSecond: 0 }, 'limit')).toThrow(/limit.perSecond/)
    expect(() => resolveRateLimit({ perSecond: 1, burst: 0 }, 'limit')).toThrow(ConfigurationError)
    expect(() => resolveRateLimit({ perSecond: 1, mode: 'drop' as 'fail' }, 'limit')).toThrow(
      /limit.mode/,
    )
    expect(() => resolveRateLimit({ perSecond: 1, rate: 2 } as never, 'limit')).toThrow(
      /Unknown option limit.rate/,
    )
  })

  it('keyed rate limiter - keys are independent, and idle buckets are dropped', () => {
    const keyed = new KeyedRateLimiter(() => resolveRateLimit({ perSecond: 1, mode: 'fail' }, 'l'))
    expect(keyed.take('a')).toBeUndefined()
    expect(() => keyed.take('a')).toThrow(RateLimitedError)
    expect(keyed.take('b')).toBeUndefined()
  })

  it('keyed rate limiter - buckets that hold no debt are dropped once many are kept', () => {
    vi.useFakeTimers({ now: 0 })
    try {
      const keyed = new KeyedRateLimiter(() => resolveRateLimit({ perSecond: 1 }, 'l'))
      for (let i = 0; i < 1_100; i++) void keyed.take(`one-off-${i}`)
      // Each still owes its second: none may go yet.
      expect(keyed.size).toBe(1_100)
      // Later, new keys arrive; when the map doubled, the old ones (debt paid) go.
      vi.setSystemTime(2_000)
      for (let i = 0; i < 1_000; i++) void keyed.take(`later-${i}`)
      expect(keyed.size).toBe(1_000)
    } finally {
      vi.useRealTimers()
    }
  })
})
