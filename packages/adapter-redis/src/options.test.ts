import { ConfigurationError } from '@switchyard/core/transport'
import { describe, expect, it } from 'vitest'
import { fromEnv, resolveConfig } from './options.js'

describe('options - resolve', () => {
  it('options - defaults follow DotMac, in milliseconds', () => {
    const config = resolveConfig({})
    expect(config).toMatchObject({
      consumerTimeout: 30_000,
      prefetchCount: 1_000,
      connectionTimeout: 10_000,
      maxConnections: 50,
      keyPrefix: 'switchyard',
      maxStreamLength: undefined,
    })
    expect(config.connection).toMatchObject({
      host: '127.0.0.1',
      port: 6379,
      db: 0,
      lazyConnect: true,
    })
  })

  it('options - a url gives host, port, db, credentials and TLS', () => {
    const { connection } = resolveConfig({ url: 'rediss://app:s%40cret@cache.internal:6380/3' })
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
    const { connection } = resolveConfig({ host: 'h', port: 7000, db: 2, password: 'p', tls: true })
    expect(connection).toMatchObject({ host: 'h', port: 7000, db: 2, password: 'p', tls: {} })
  })

  it('options - invalid settings fail at construction naming the field', () => {
    const cases: Array<[object, string]> = [
      [{ prefetchCount: 0 }, 'redisTransport.prefetchCount'],
      [{ consumerTimeout: 1.5 }, 'redisTransport.consumerTimeout'],
      [{ url: 'http://x' }, 'redisTransport.url'],
      [{ url: 'redis://x', port: 1 }, 'redisTransport.url'],
      [{ keyPrefix: 'a{b}' }, 'redisTransport.keyPrefix'],
      [{ maxStreamLenght: 5 }, 'redisTransport.maxStreamLenght'],
    ]
    for (const [config, field] of cases) {
      const error = (() => {
        try {
          resolveConfig(config)
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
})
