import { JetStreamApiError } from '@nats-io/jetstream'
import { ClosedConnectionError, errors } from '@nats-io/transport-node'
import { PublishError } from '@switchyard/core/transport'
import { describe, expect, it } from 'vitest'
import { apiCode, classify, connectError, publishError } from './errors.js'

const apiError = (err_code: number, description = 'api error') =>
  new JetStreamApiError({ code: 400, err_code, description })

describe('errors - classification', () => {
  it('errors - timeouts and unknown failures are retried', () => {
    expect(classify(new errors.TimeoutError())).toBe('retry')
    expect(classify(new Error('socket hang up'))).toBe('retry')
    expect(classify(apiError(10008))).toBe('retry')
  })

  it('errors - no responders means the stream or JetStream is missing', () => {
    const notEnabled = Object.assign(new Error('jetstream is not enabled'), {
      name: 'JetStreamNotEnabled',
    })
    expect(classify(notEnabled)).toBe('no-stream')
    expect(classify(new errors.NoRespondersError('x'))).toBe('no-stream')
  })

  it('errors - closed connections, oversized payloads and API refusals are fatal', () => {
    expect(classify(new ClosedConnectionError())).toBe('fatal')
    expect(classify(new errors.InvalidArgumentError("'payload' max_payload size exceeded"))).toBe(
      'fatal',
    )
    expect(classify(apiError(10054, 'message size exceeds maximum allowed'))).toBe('fatal')
    expect(apiCode(apiError(10065))).toBe(10065)
    expect(apiCode(new Error('x'))).toBeUndefined()
  })
})

describe('errors - messages', () => {
  it('errors - a publish error names the topic, keeps the cause and says what to check', () => {
    const big = publishError('orders', new errors.InvalidArgumentError('max_payload exceeded'), 0)
    expect(big).toBeInstanceOf(PublishError)
    expect(big.retryable).toBe(false)
    expect(big.message).toMatch(/"orders".*max_payload in the nats-server config/)
    const slow = publishError('orders', new errors.TimeoutError(), 30_000)
    expect(slow.retryable).toBe(true)
    expect(slow.message).toMatch(/30000 ms/)
    expect(slow.cause).toBeInstanceOf(errors.TimeoutError)
  })

  it('errors - a connect error lists the servers and the script that starts one', () => {
    const error = connectError(['nats://a:4222', 'nats://b:4222'], new Error('ECONNREFUSED'))
    expect(error.message).toMatch(/nats:\/\/a:4222, nats:\/\/b:4222: ECONNREFUSED.*nats\.sh/)
  })
})
