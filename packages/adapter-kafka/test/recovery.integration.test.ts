import { randomUUID } from 'node:crypto'
import { createEventBus, SwitchyardError } from '@switchyard/core'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import { describe, expect, it } from 'vitest'
import { kafkaTransport } from '../src/index.js'
import { FAST, probe } from './helpers.js'
import { PrivateBroker } from './private-broker.js'

// Needs the shared broker only to know Kafka can run here; the test stops and starts its own.
const skip = await serviceOrSkip('Kafka', () => probe())

/** The error a call rejects with (fails the test when it resolves). */
async function failure(call: Promise<unknown>): Promise<SwitchyardError> {
  const error = await call.then(
    () => new Error('expected a failure'),
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(SwitchyardError)
  return error as SwitchyardError
}

describe.skipIf(skip !== undefined)('kafka adapter (private broker)', () => {
  it('recovery - a bus created while the broker is down works once it comes up, without a restart', async () => {
    const broker = await PrivateBroker.create()
    const bus = createEventBus({
      source: 'adapter-tests',
      transport: kafkaTransport({ brokers: broker.brokers, ...FAST }),
      // Each failure is the transport's own answer, not the bus's retries of it.
      publishRetry: false,
    })
    try {
      const topic = `sy.recovery.${randomUUID().slice(0, 8)}`
      const early = await failure(bus.publish(topic, { type: 'adapter.early' }))
      expect(early.retryable).toBe(true)
      const joining = await failure(bus.subscribe(topic, () => undefined, { group: 'recovery' }))
      expect(joining.retryable).toBe(true)
      // Twice: a second failure must not leave the client in a state the broker cannot fix.
      expect((await failure(bus.publish(topic, { type: 'adapter.early' }))).retryable).toBe(true)

      await broker.up()
      const seen: unknown[] = []
      await bus.subscribe(topic, (event) => void seen.push(event.data), {
        group: 'recovery',
        startAt: 'earliest',
      })
      await bus.publish(topic, { type: 'adapter.late', data: { n: 1 } })
      await waitUntil(() => seen.length >= 1, { timeoutMs: 30_000, message: 'the late event' })
      expect(seen).toEqual([{ n: 1 }])
      expect((await bus.health()).status).toBe('up')
    } finally {
      await bus.close({ timeoutMs: 5_000 }).catch(() => undefined)
      await broker.destroy()
    }
  }, 180_000)
})
