import { ConfigurationError } from '@switchyard/core/transport'
import { describe, expect, it } from 'vitest'
import { fromEnv, resolveOptions } from './options.js'
import { redisTransport } from './transport.js'

describe('options - resolve', () => {
  it('options - defaults follow DotMac, in milliseconds', () => {
    const config = resolveOptions({})
    expect(config).toMatchObject({
      consumerTimeoutMs: 30_000,
      prefetchCount: 1_000,
      connectTimeoutMs: 10_000,
      maxConnections: 50,
      keyPrefix: 'switchyard',
      maxStreamLength: undefined,
      lossyTrim: false,
    })
    expect(config.connection).toMatchObject({
      host: '127.0.0.1',
      port: 6379,
      db: 0,
      lazyConnect: true,
    })
  })

  it('options - a url gives host, port, db, credentials and TLS', () => {
    const { connection } = resolveOptions({ url: 'rediss://app:s%40cret@cache.internal:6380/3' })
    expect(connection).toMatchObject({
      host: 'cache.internal',
      port: 6380,
      db: 3,
      username: 'app',
      password: 's@cret',
      tls: {},
    })
  })

  it('options - host/port/db with password and tls', () => {
    const { connection } = resolveOptions({
      host: 'h',
      port: 7000,
      db: 2,
      password: 'p',
      tls: true,
    })
    expect(connection).toMatchObject({ host: 'h', port: 7000, db: 2, password: 'p', tls: {} })
  })

  it('options - invalid settings fail at construction naming the field', () => {
    const cases: Array<[object, string]> = [
      [{ prefetchCount: 0 }, 'redisTransport.prefetchCount'],
      [{ consumerTimeoutMs: 1.5 }, 'redisTransport.consumerTimeoutMs'],
      [{ url: 'http://x' }, 'redisTransport.url'],
      [{ url: 'redis://x', port: 1 }, 'redisTransport.url'],
      [{ keyPrefix: 'a{b}' }, 'redisTransport.keyPrefix'],
      [{ maxStreamLenght: 5 }, 'redisTransport.maxStreamLenght'],
      [{ lossyTrim: true }, 'redisTransport.lossyTrim'],
      [{ maxStreamLength: 50, lossyTrim: 'yes' }, 'redisTransport.lossyTrim'],
    ]
    for (const [config, field] of cases) {
      const error = (() => {
        try {
          resolveOptions(config)
        } catch (e) {
          return e
        }
      })()
      expect(error).toBeInstanceOf(ConfigurationError)
      expect((error as ConfigurationError).field).toBe(field)
    }
  })

  it('options - fromEnv reads REDIS_URL', () => {
    expect(fromEnv({ REDIS_URL: 'redis://10.0.0.1:6390/1' })).toEqual({
      url: 'redis://10.0.0.1:6390/1',
    })
    expect(fromEnv({})).toEqual({ url: 'redis://127.0.0.1:6379' })
  })

  it("options - fromEnv reads APG's REDIS_MAX_CONNECTIONS into maxConnections", () => {
    expect(fromEnv({ REDIS_MAX_CONNECTIONS: '100' })).toEqual({
      url: 'redis://127.0.0.1:6379',
      maxConnections: 100,
    })
    expect(() => fromEnv({ REDIS_MAX_CONNECTIONS: '1' })).toThrow(/REDIS_MAX_CONNECTIONS/)
    expect(() => fromEnv({ REDIS_MAX_CONNECTIONS: 'many' })).toThrow(/REDIS_MAX_CONNECTIONS/)
  })

  it('options - fromEnv takes subscription defaults from core (EVENTS_*, DLQ_*)', () => {
    const options = fromEnv({
      EVENTS_MAX_RETRIES: '2',
      EVENTS_RETRY_BACKOFF_MS: '50',
      DLQ_TOPIC_SUFFIX: '.dead',
    })
    expect(options.subscribeDefaults).toMatchObject({
      retry: { maxAttempts: 3, backoff: expect.any(Function) },
      deadLetter: { suffix: '.dead' },
    })
    expect(fromEnv({ DLQ_ENABLED: 'false' }).subscribeDefaults).toEqual({ deadLetter: false })
    expect(() => fromEnv({ EVENTS_MAX_RETRIES: 'many' })).toThrow(ConfigurationError)
    const transport = redisTransport(fromEnv({ EVENTS_MAX_RETRIES: '2' }))
    expect(transport.subscribeDefaults).toEqual({ retry: { maxAttempts: 3 } })
  })
})
