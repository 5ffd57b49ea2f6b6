import { describe, expect, it } from 'vitest'
import { ConfigurationError, DecodeError, SchemaValidationError } from './errors.js'
import { constant, exponential, retryPolicy } from './retry-policy.js'

describe('retry policy', () => {
  it('retry policy - exponential backoff doubles up to the cap without jitter', () => {
    const backoff = exponential({ baseMs: 100, maxMs: 1_000, jitter: false })
    expect([1, 2, 3, 4, 5, 6].map(backoff)).toEqual([100, 200, 400, 800, 1_000, 1_000])
  })

  it('retry policy - jitter stays within its share below the raw delay', () => {
    const backoff = exponential({ baseMs: 1_000, jitter: 0.2 })
    for (let i = 0; i < 200; i++) {
      const d = backoff(1)
      expect(d).toBeGreaterThanOrEqual(800)
      expect(d).toBeLessThanOrEqual(1_000)
    }
  })

  it('retry policy - gives up at maxAttempts and skips non-retryable errors', () => {
    class Fatal extends Error {}
    const policy = retryPolicy({ maxAttempts: 3, backoff: constant(10), nonRetryable: [Fatal] })
    expect(policy.decide(new Error('x'), 1)).toEqual({ retry: true, delayMs: 10 })
    expect(policy.decide(new Error('x'), 2)).toEqual({ retry: true, delayMs: 10 })
    expect(policy.decide(new Error('x'), 3)).toMatchObject({ retry: false })
    expect(policy.decide(new Fatal('f'), 1)).toMatchObject({ retry: false })
    expect(policy.decide(new DecodeError('d'), 1)).toMatchObject({ retry: false })
    expect(policy.decide(new SchemaValidationError([]), 1)).toMatchObject({ retry: false })
  })

  it('retry policy - retryIf decides per error', () => {
    const policy = retryPolicy({ retryIf: (error) => error.message !== 'no' })
    expect(policy.decide(new Error('no'), 1)).toMatchObject({
      retry: false,
      reason: 'retryIf returned false',
    })
    expect(policy.decide(new Error('yes'), 1)).toMatchObject({ retry: true })
  })

  it('retry policy - bad options are ConfigurationErrors naming the field', () => {
    expect(() => retryPolicy({ maxAttempts: 0 })).toThrow(/retry\.maxAttempts/)
    expect(() => retryPolicy({ maxAtempts: 3 } as never)).toThrow(ConfigurationError)
    expect(() => exponential({ baseMs: -1 })).toThrow(/exponential\.baseMs/)
  })
})
