import { createEventBus } from '@switchyard/core'
import type { InboundMessage, Transport } from '@switchyard/core/transport'
import { describe, expect, it } from 'vitest'
import { memoryTransport } from '../src/index.js'

/** A transport whose deliveries report `extra` more attempts, as after abandoned deliveries. */
function abandonedBefore(transport: Transport, extra: number): Transport {
  return Object.assign(Object.create(transport) as Transport, {
    subscribe: async (topic: string, options: Parameters<Transport['subscribe']>[1]) => {
      const inner = await transport.subscribe(topic, options)
      return {
        pull: (
          max: number,
          signal: AbortSignal,
          deliver: (m: InboundMessage[]) => void,
          fail: (e: unknown) => void,
        ) =>
          inner.pull(
            max,
            signal,
            (messages) =>
              deliver(
                messages.map((m) =>
                  Object.assign(Object.create(m), { attempt: m.attempt + extra }),
                ),
              ),
            fail,
          ),
        close: () => inner.close(),
      }
    },
  })
}

describe('abandoned deliveries', () => {
  it('bus - a delivery past retry.maxAttempts (earlier attempts abandoned) is dead-lettered, not handled', async () => {
    const bus = createEventBus({ source: 't', transport: abandonedBefore(memoryTransport(), 3) })
    let calls = 0
    await bus.subscribe('hangs', () => void calls++, { retry: { maxAttempts: 3 } })
    await bus.publish('hangs', { type: 'hang' })
    let entries = await bus.deadLetters.list('hangs.dlq')
    for (let i = 0; i < 100 && entries.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
      entries = await bus.deadLetters.list('hangs.dlq')
    }
    expect(calls).toBe(0)
    expect(entries).toHaveLength(1)
    expect(entries[0]).toMatchObject({
      attempts: 3,
      reason: expect.stringMatching(/^attempt 4 is past retry.maxAttempts \(3\)/),
    })
    await bus.close()
  })
})
