import { describe, expect, test } from 'vitest'
import { HttpProblem } from './problem.js'
import { RateLimiter } from './rate-limit.js'

describe('rate limit', () => {
  test('rate limit - a burst passes, the next request is 429 with Retry-After, tokens refill over time', () => {
    let now = 0
    const limiter = new RateLimiter({ ratePerSecond: 2, burst: 3 }, () => now)
    for (let i = 0; i < 3; i++) limiter.take('acme')
    let refused: unknown
    try {
      limiter.take('acme')
    } catch (error) {
      refused = error
    }
    expect(refused).toBeInstanceOf(HttpProblem)
    expect((refused as HttpProblem).status).toBe(429)
    expect((refused as HttpProblem).headers['retry-after']).toBe('1')
    limiter.take('globex')
    now = 500
    limiter.take('acme')
    expect(() => limiter.take('acme')).toThrow(HttpProblem)
  })

  test('rate limit - the least recently used bucket goes past maxTenants', () => {
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1, maxTenants: 2 }, () => 0)
    limiter.take('a')
    limiter.take('b')
    limiter.take('c')
    // "a" was dropped, so it starts with a full bucket again.
    limiter.take('a')
    expect(() => limiter.take('c')).toThrow(HttpProblem)
  })
})
