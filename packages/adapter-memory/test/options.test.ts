import { ClosedError, ConfigurationError, createEventBus } from '@switchyard/core'
import { describe, expect, it } from 'vitest'
import { fromEnv, memoryTransport } from '../src/index.js'

describe('memory options', () => {
  it('memory fromEnv - reads queue sizes and the subscription defaults core reads for every adapter', () => {
    const options = fromEnv({
      MEMORY_MAX_QUEUE_SIZE: '500',
      MEMORY_HISTORY_SIZE: '0',
      EVENTS_MAX_RETRIES: '2',
      DLQ_TOPIC_SUFFIX: '.dead',
    })
    expect(options).toMatchObject({
      maxQueueSize: 500,
      historySize: 0,
      subscribeDefaults: { retry: { maxAttempts: 3 }, deadLetter: { suffix: '.dead' } },
    })
    expect(memoryTransport(options).subscribeDefaults).toEqual(options.subscribeDefaults)
    expect(fromEnv({})).toEqual({})
  })

  it('memory fromEnv - a variable set to something unusable is a ConfigurationError naming it', () => {
    expect(() => fromEnv({ MEMORY_MAX_QUEUE_SIZE: 'lots' })).toThrow(ConfigurationError)
    expect(() => fromEnv({ MEMORY_MAX_QUEUE_SIZE: 'lots' })).toThrow(/MEMORY_MAX_QUEUE_SIZE/)
  })

  it('memory transport - publish and subscribe after close throw ClosedError', async () => {
    const transport = memoryTransport()
    await transport.connect()
    await transport.close()
    await expect(transport.publish('t', [])).rejects.toBeInstanceOf(ClosedError)
    await expect(
      transport.subscribe('t', { group: 'g', startAt: 'latest', prefetch: 1 }),
    ).rejects.toBeInstanceOf(ClosedError)
  })

  it('memory fromEnv - EVENTS_MAX_RETRIES reaches a subscription through the bus', async () => {
    const bus = createEventBus({
      source: 'env',
      transport: memoryTransport(
        fromEnv({ EVENTS_MAX_RETRIES: '1', EVENTS_RETRY_BACKOFF_MS: '0' }),
      ),
    })
    let attempts = 0
    await bus.subscribe('env.topic', () => {
      attempts++
      throw new Error('always')
    })
    await bus.publish('env.topic', { type: 'env.test' })
    for (let i = 0; i < 100 && (await bus.deadLetters.list('env.topic.dlq')).length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    expect(attempts).toBe(2)
    await bus.close()
  })
})
