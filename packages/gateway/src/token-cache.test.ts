import { describe, expect, test } from 'vitest'
import { TokenCache } from './token-cache.js'

describe('token cache', () => {
  test('token cache - a verified token is remembered until its exp or maxAgeMs, whichever is first', () => {
    const cache = new TokenCache<string>({ maxAgeMs: 60_000 })
    const now = 1_000_000
    cache.set('a', 'principal-a', (now + 10_000) / 1_000, now)
    cache.set('b', 'principal-b', undefined, now)
    expect(cache.get('a', now + 9_999)).toBe('principal-a')
    expect(cache.get('a', now + 10_000)).toBeUndefined()
    expect(cache.get('b', now + 59_999)).toBe('principal-b')
    expect(cache.get('b', now + 60_000)).toBeUndefined()
    // Already expired: never kept.
    cache.set('c', 'principal-c', (now - 1) / 1_000, now)
    expect(cache.get('c', now)).toBeUndefined()
  })

  test('token cache - bounded: the least recently used token goes first', () => {
    const cache = new TokenCache<number>({ maxEntries: 2 })
    const t0 = 1_000_000
    cache.set('a', 1, undefined, t0)
    cache.set('b', 2, undefined, t0)
    // Recency is refreshed at most once a second per token.
    expect(cache.get('a', t0 + 1_500)).toBe(1)
    cache.set('c', 3, undefined, t0 + 1_600)
    expect(cache.get('b', t0 + 1_700)).toBeUndefined()
    expect(cache.get('a', t0 + 1_700)).toBe(1)
    expect(cache.get('c', t0 + 1_700)).toBe(3)
  })

  test('token cache - a token used within the same second keeps its place', () => {
    const cache = new TokenCache<number>({ maxEntries: 2 })
    const t0 = 1_000_000
    cache.set('a', 1, undefined, t0)
    cache.set('b', 2, undefined, t0)
    expect(cache.get('a', t0 + 10)).toBe(1)
    cache.set('c', 3, undefined, t0 + 20)
    expect(cache.get('a', t0 + 30)).toBeUndefined()
    expect(cache.get('b', t0 + 30)).toBe(2)
  })
})

describe('auth options', () => {
  test('auth - no key, or an algorithm that does not fit the key, is a ConfigurationError naming it', async () => {
    const { createAuthenticator } = await import('./auth.js')
    const { ConfigurationError } = await import('@switchyard/core')
    expect(() => createAuthenticator({})).toThrow(ConfigurationError)
    expect(() => createAuthenticator({})).toThrow(/JWT_SECRET_KEY/)
    expect(() => createAuthenticator({ secret: 's', algorithm: 'RS256' })).toThrow(
      ConfigurationError,
    )
  })
})
