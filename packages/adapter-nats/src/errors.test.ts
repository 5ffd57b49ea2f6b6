import { JetStreamApiError } from '@nats-io/jetstream'
import { ClosedConnectionError, errors } from '@nats-io/transport-node'
import {
  ConfigurationError,
  ConnectionError,
  PublishError,
  TimeoutError,
} from '@switchyard/core/transport'
import { describe, expect, it } from 'vitest'
import { apiCode, connectError, noResponders, publishError } from './errors.js'

const apiError = (err_code: number, description = 'api error') =>
  new JetStreamApiError({ code: 400, err_code, description })

describe('errors - publish classification', () => {
  it('errors - an ack timeout is a retryable TimeoutError', () => {
    const error = publishError('orders', new errors.TimeoutError(), 5_000)
    expect(error).toBeInstanceOf(TimeoutError)
    expect((error as TimeoutError).retryable).toBe(true)
    expect(error.message).toMatch(/"orders" got no ack within 5000 ms/)
    expect(error.cause).toBeInstanceOf(errors.TimeoutError)
  })

  it('errors - no responders, transient JetStream states and unknown failures are retryable', () => {
    const notEnabled = Object.assign(new Error('jetstream is not enabled'), {
      name: 'JetStreamNotEnabled',
    })
    expect(noResponders(notEnabled)).toBe(true)
    expect(noResponders(new errors.NoRespondersError('x'))).toBe(true)
    const wrapped = new errors.RequestError('no responders', {
      cause: new errors.NoRespondersError('x'),
    })
    expect(noResponders(wrapped)).toBe(true)
    for (const cause of [notEnabled, apiError(10008), new Error('socket hang up')]) {
      const error = publishError('orders', cause, 5_000)
      expect(error).toBeInstanceOf(ConnectionError)
      expect((error as ConnectionError).retryable).toBe(true)
    }
  })

  it('errors - closed connections, oversized payloads and API refusals are not retryable', () => {
    for (const cause of [
      new ClosedConnectionError(),
      new errors.InvalidArgumentError("'payload' max_payload size exceeded"),
      apiError(10054, 'message size exceeds maximum allowed'),
    ]) {
      const error = publishError('orders', cause, 5_000)
      expect(error).toBeInstanceOf(PublishError)
      expect((error as PublishError).retryable).toBe(false)
    }
    const big = publishError('orders', new errors.InvalidArgumentError('max_payload exceeded'), 0)
    expect(big.message).toMatch(/"orders".*max_payload in the nats-server config/)
    const config = new ConfigurationError('bad topic')
    expect(publishError('orders', config, 0)).toBe(config)
    expect(apiCode(apiError(10065))).toBe(10065)
    expect(apiCode(new Error('x'))).toBeUndefined()
  })

  it('errors - a connect error lists the servers and the cause, and names no repository script', () => {
    const error = connectError(['nats://a:4222', 'nats://b:4222'], new Error('ECONNREFUSED'))
    expect(error.message).toMatch(/nats:\/\/a:4222, nats:\/\/b:4222: ECONNREFUSED.*NATS_URL/)
    expect(error.message).not.toMatch(/tooling|\.sh\b/)
    expect(error.retryable).toBe(true)
  })
})
