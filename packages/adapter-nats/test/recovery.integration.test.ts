import { randomUUID } from 'node:crypto'
import { createEventBus, SwitchyardError } from '@switchyard/core'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import { describe, expect, it } from 'vitest'
import { natsTransport } from '../src/index.js'
import { NATS_URL, PrivateServer, probe } from './nats-server.js'

// Needs the shared server only to know nats-server can run here; the test stops and starts its own.
const skip = await serviceOrSkip('NATS', () => probe(NATS_URL))

/** The error a call rejects with (fails the test when it resolves). */
async function failure(call: Promise<unknown>): Promise<SwitchyardError> {
  const error = await call.then(
    () => new Error('expected a failure'),
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(SwitchyardError)
  return error as SwitchyardError
}

describe.skipIf(skip !== undefined)('nats adapter (private server)', () => {
  it('recovery - a bus created while the server is down works once it comes up, without a restart', async () => {
    const server = await PrivateServer.start()
    await server.stop()
    const bus = createEventBus({
      source: 'adapter-tests',
      transport: natsTransport({ servers: server.url, autoStreams: { prefix: 'rec' } }),
      // Each failure is the transport's own answer, not the bus's retries of it.
      publishRetry: false,
    })
    try {
      const topic = `rec.${randomUUID().slice(0, 8)}`
      const started = Date.now()
      const early = await failure(bus.publish(topic, { type: 'adapter.early' }))
      expect(early.retryable).toBe(true)
      const joining = await failure(bus.subscribe(topic, () => undefined, { group: 'recovery' }))
      expect(joining.retryable).toBe(true)
      // Twice: a failed connect must not leave the client in a state a later server cannot fix.
      expect((await failure(bus.publish(topic, { type: 'adapter.early' }))).retryable).toBe(true)
      expect(Date.now() - started).toBeLessThan(15_000)

      await server.start()
      const seen: unknown[] = []
      await bus.subscribe(topic, (event) => void seen.push(event.data), { group: 'recovery' })
      await bus.publish(topic, { type: 'adapter.late', data: { n: 1 } })
      await waitUntil(() => seen.length >= 1, { timeoutMs: 20_000, message: 'the late event' })
      expect(seen).toEqual([{ n: 1 }])
      expect((await bus.health()).status).toBe('up')
    } finally {
      await bus.close({ timeoutMs: 1_000 }).catch(() => undefined)
      await server.dispose()
    }
  })
})
