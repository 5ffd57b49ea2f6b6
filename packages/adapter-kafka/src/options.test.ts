import { ConfigurationError } from '@switchyard/core'
import { describe, expect, it } from 'vitest'
import { fromEnv, publishRetryFromEnv, resolveOptions } from './options.js'

describe('resolveOptions', () => {
  it('defaults - local broker, acks all, broker-default topics', () => {
    const options = resolveOptions({})
    expect(options).toMatchObject({
      brokers: ['127.0.0.1:9092'],
      acks: -1,
      compression: 'none',
      lingerMs: 0,
      createTopics: true,
      partitions: -1,
      replicationFactor: -1,
      ssl: false,
      fetchMaxBytesPerPartition: 4_194_304,
      fetchMaxBytes: 16_777_216,
    })
  })

  it('validation - unknown options, bad brokers and contradictions fail with the field named', () => {
    const field = (fn: () => unknown) => {
      try {
        fn()
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigurationError)
        return (error as ConfigurationError).field
      }
      throw new Error('expected a ConfigurationError')
    }
    expect(field(() => resolveOptions({ lingerMS: 5 } as never))).toBe('kafkaTransport.lingerMS')
    expect(field(() => resolveOptions({ brokers: 'localhost' }))).toBe('kafkaTransport.brokers')
    // The producer is not idempotent (the bus retries publishes): the option is gone.
    expect(field(() => resolveOptions({ idempotent: true } as never))).toBe(
      'kafkaTransport.idempotent',
    )
    expect(field(() => resolveOptions({ securityProtocol: 'SASL_SSL' }))).toBe(
      'kafkaTransport.sasl',
    )
    expect(field(() => resolveOptions({ compression: 'brotli' as never }))).toBe(
      'kafkaTransport.compression',
    )
    expect(field(() => resolveOptions({ heartbeatIntervalMs: 30_000 }))).toBe(
      'kafkaTransport.heartbeatIntervalMs',
    )
    expect(field(() => resolveOptions({ partitions: 0 }))).toBe('kafkaTransport.partitions')
    expect(field(() => resolveOptions({ retries: -1 }))).toBe('kafkaTransport.retries')
    expect(field(() => resolveOptions({ fetchMaxBytesPerPartition: 0 }))).toBe(
      'kafkaTransport.fetchMaxBytesPerPartition',
    )
    expect(field(() => resolveOptions({ fetchMaxBytes: 1_048_576 }))).toBe(
      'kafkaTransport.fetchMaxBytes',
    )
    // A larger per-partition limit alone raises the per-request default with it.
    expect(resolveOptions({ fetchMaxBytesPerPartition: 33_554_432 }).fetchMaxBytes).toBe(33_554_432)
  })

  it('security - SASL_SSL turns TLS on and keeps the credentials', () => {
    const options = resolveOptions({
      securityProtocol: 'SASL_SSL',
      sasl: { mechanism: 'scram-sha-256', username: 'svc', password: 'secret' },
    })
    expect(options.ssl).toBe(true)
    expect(options.sasl).toEqual({
      mechanism: 'scram-sha-256',
      username: 'svc',
      password: 'secret',
    })
  })
})

describe('fromEnv', () => {
  it("Olive's variables - map onto transport options and subscription defaults", () => {
    const options = fromEnv({
      KAFKA_BOOTSTRAP_SERVERS: 'k1:9092, k2:9093',
      KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'svc',
      KAFKA_SASL_PASSWORD: 'pw',
      KAFKA_PRODUCER_ACKS: '1',
      KAFKA_PRODUCER_RETRIES: '7',
      KAFKA_PRODUCER_COMPRESSION: 'GZIP',
      KAFKA_CONSUMER_AUTO_OFFSET_RESET: 'earliest',
      SERVICE_NAME: 'hr-service',
      EVENTS_MAX_RETRIES: '3',
      EVENTS_RETRY_BACKOFF_MS: '1000',
      DLQ_ENABLED: 'false',
    })
    expect(options).toMatchObject({
      brokers: ['k1:9092', 'k2:9093'],
      clientId: 'hr-service',
      securityProtocol: 'SASL_SSL',
      sasl: { mechanism: 'scram-sha-512', username: 'svc', password: 'pw' },
      acks: 1,
      compression: 'gzip',
      autoOffsetReset: 'earliest',
    })
    // The producer retries are the bus's publishRetry, not kafkajs's consumer/admin `retries`.
    expect(options).not.toHaveProperty('retries')
    expect(publishRetryFromEnv({ KAFKA_PRODUCER_RETRIES: '7' })).toEqual({ maxAttempts: 8 })
    expect(publishRetryFromEnv({})).toEqual({})
    expect(options.subscribeDefaults?.retry?.maxAttempts).toBe(4)
    expect(options.subscribeDefaults?.deadLetter).toBe(false)
    const backoff = options.subscribeDefaults!.retry!.backoff!
    expect(backoff(1)).toBeGreaterThanOrEqual(500)
    expect(backoff(1)).toBeLessThanOrEqual(1_000)
    // Core's cap (30 s), not a Kafka one of its own.
    expect(backoff(30)).toBeLessThanOrEqual(30_000)
    expect(() => resolveOptions(options)).not.toThrow()
  })

  it('errors - a set but invalid variable fails and names the variable', () => {
    expect(() => fromEnv({ KAFKA_PRODUCER_ACKS: 'some' })).toThrow(/KAFKA_PRODUCER_ACKS/)
    expect(() => fromEnv({ KAFKA_PRODUCER_RETRIES: 'many' })).toThrow(/KAFKA_PRODUCER_RETRIES/)
    expect(() => fromEnv({ KAFKA_SASL_USERNAME: 'only-user' })).toThrow(/KAFKA_SASL_PASSWORD/)
    expect(fromEnv({})).toEqual({})
  })

  it("aliases - Marty's KAFKA_BROKERS and APG's KAFKA_ACKS / KAFKA_RETRIES, refused when they disagree", () => {
    expect(fromEnv({ KAFKA_BROKERS: 'k1:9092,k2:9092' }).brokers).toEqual(['k1:9092', 'k2:9092'])
    const both = { KAFKA_BROKERS: 'k1:9092', KAFKA_BOOTSTRAP_SERVERS: 'k1:9092 ' }
    expect(fromEnv(both).brokers).toEqual(['k1:9092'])
    expect(() => fromEnv({ ...both, KAFKA_BROKERS: 'k9:9092' })).toThrow(
      /KAFKA_BOOTSTRAP_SERVERS and KAFKA_BROKERS/,
    )
    expect(fromEnv({ KAFKA_ACKS: '0' }).acks).toBe(0)
    expect(() => fromEnv({ KAFKA_ACKS: '0', KAFKA_PRODUCER_ACKS: '1' })).toThrow(/KAFKA_ACKS/)
    expect(publishRetryFromEnv({ KAFKA_RETRIES: '3' })).toEqual({ maxAttempts: 4 })
    expect(() => fromEnv({ KAFKA_RETRIES: '-2' })).toThrow(/KAFKA_RETRIES/)
  })

  it('refusals - auto-commit on receipt, SASL under PLAINTEXT, an unknown log level', () => {
    expect(() => fromEnv({ KAFKA_CONSUMER_ENABLE_AUTO_COMMIT: 'yes' })).toThrow(
      /KAFKA_CONSUMER_ENABLE_AUTO_COMMIT/,
    )
    expect(fromEnv({ KAFKA_CONSUMER_ENABLE_AUTO_COMMIT: 'false' })).toEqual({})
    const sasl = { KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }
    expect(() => fromEnv({ ...sasl, KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT' })).toThrow(
      /SASL_PLAINTEXT/,
    )
    expect(() => fromEnv({ ...sasl, KAFKA_SECURITY_PROTOCOL: 'SSL' })).toThrow(/SASL_SSL/)
    expect(fromEnv(sasl).sasl).toEqual({ mechanism: 'plain', username: 'u', password: 'p' })
    expect(() => fromEnv({ KAFKA_SASL_MECHANISM: 'PLAIN' })).toThrow(/KAFKA_SASL_USERNAME/)
    expect(fromEnv({ KAFKA_LOG_LEVEL: 'critical' }).logLevel).toBe('error')
    expect(() => fromEnv({ KAFKA_LOG_LEVEL: 'trace' })).toThrow(/KAFKA_LOG_LEVEL/)
  })
})
