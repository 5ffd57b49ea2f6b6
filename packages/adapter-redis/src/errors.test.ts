import { ConnectionError, PublishError } from '@switchyard/core/transport'
import { describe, expect, it } from 'vitest'
import { publishError } from './errors.js'

const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' })

describe('errors - publish classification', () => {
  it('errors - a refusal is a PublishError that core does not retry', () => {
    for (const message of [
      'WRONGTYPE Operation against a key',
      'OOM command not allowed',
      'NOPERM',
    ]) {
      const error = publishError('t', 1, reply(message))
      expect(error).toBeInstanceOf(PublishError)
      expect(error.retryable).toBe(false)
    }
  })

  it('errors - a transient reply is a retryable PublishError', () => {
    const error = publishError('t', 1, reply('LOADING Redis is loading the dataset in memory'))
    expect(error).toBeInstanceOf(PublishError)
    expect(error.retryable).toBe(true)
  })

  it('errors - a lost connection is a retryable ConnectionError', () => {
    const error = publishError('t', 2, new Error('Connection is closed.'))
    expect(error).toBeInstanceOf(ConnectionError)
    expect(error.retryable).toBe(true)
    expect(error.message).toMatch(/did not store 2 event\(s\) on "t"/)
  })
})
