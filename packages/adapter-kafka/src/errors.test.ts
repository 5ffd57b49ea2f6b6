import { ConnectionError } from '@switchyard/core/transport'
import kafkajs from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { connectionError, handshakeError } from './errors.js'

describe('kafka errors - connect failures', () => {
  it('errors - refused SASL credentials are not retryable and point at the credentials, not the broker', () => {
    // kafkajs's own class (its typings omit the message parameter its constructor takes).
    const SaslError = kafkajs.KafkaJSSASLAuthenticationError as unknown as new (m: string) => Error
    const refused = new SaslError(
      'SASL PLAIN authentication failed: Authentication failed during authentication',
    )
    const error = connectionError(refused, ['b1:9092'])
    expect(error).toBeInstanceOf(ConnectionError)
    expect(error.retryable).toBe(false)
    expect(error.message).toMatch(/refused the SASL credentials.*KAFKA_SASL_PASSWORD/)
    expect(error.message).not.toMatch(/listening|tooling/)
  })

  it('errors - an unreachable bootstrap list is retryable; a foreign or silent one is not', () => {
    const down = handshakeError([
      { ok: false, broker: 'a:1', kind: 'unreachable', detail: 'connect ECONNREFUSED a:1' },
    ])
    expect(down.retryable).toBe(true)
    expect(down.message).toBe(
      'Could not reach Kafka at a:1: connect ECONNREFUSED a:1. Is a broker listening there (KAFKA_BOOTSTRAP_SERVERS)?',
    )
    const wrong = handshakeError([
      { ok: false, broker: 'a:1', kind: 'unreachable', detail: 'refused' },
      {
        ok: false,
        broker: 'b:2',
        kind: 'foreign',
        detail: 'it answered "INFO", which is not Kafka',
      },
    ])
    expect(wrong.retryable).toBe(false)
    expect(wrong.message).toMatch(
      /at a:1 \(refused\), b:2 \(it answered "INFO", which is not Kafka\)/,
    )
  })
})
