import { ConfigurationError, type EventEnvelope } from '@switchyard/core'
import { expect, it } from 'vitest'
import { type Harness, pause } from './harness.js'

/** Scenarios 17-18: payloads and backpressure. */
export function limitScenarios(h: Harness): void {
  it('payloads - 1 MB, binary data, unicode in data, subject and extensions', async () => {
    const topic = await h.topic('payloads')
    const bus = await h.bus()
    const received = new Map<string, EventEnvelope>()
    await bus.subscribe(topic, (event) => void received.set(event.id, event), { group: 'payloads' })
    const big = await bus.publish(topic, {
      type: 'conformance.big',
      data: { blob: 'x'.repeat(1_000_000) },
    })
    const bytes = new Uint8Array(65_536).map((_, i) => (i * 31) % 256)
    const binary = await bus.publish(topic, { type: 'conformance.binary', data: bytes })
    const unicode = await bus.publish(topic, {
      type: 'conformance.unicode',
      subject: 'Grüße/日本/🚀',
      data: { text: 'Zoë ✓ — 日本語 — 🚀', emoji: '👩‍💻' },
      extensions: { note: 'naïve café ☕' },
      tenantid: 'tenant-ü',
    })
    await h.until(() => received.size >= 3, 'three payload events')
    expect(received.get(big.id)).toEqual(big)
    const gotBinary = received.get(binary.id)!
    expect(gotBinary.datacontenttype).toBe('application/octet-stream')
    expect(gotBinary.data).toBeInstanceOf(Uint8Array)
    expect(Buffer.compare(Buffer.from(gotBinary.data as Uint8Array), Buffer.from(bytes))).toBe(0)
    expect(received.get(unicode.id)).toEqual(unicode)
  })

  it('payloads - unicode and malformed topic names are rejected the same way on every transport', async () => {
    const bus = await h.bus()
    for (const topic of ['', 'orders 2024', 'bestellungen.grüße', 'a'.repeat(250)]) {
      await expect(bus.publish(topic, { type: 'x' })).rejects.toBeInstanceOf(ConfigurationError)
    }
  })

  it('backpressure - concurrency 2 never runs more than 2, and what is held stays within prefetch', async () => {
    const topic = await h.topic('backpressure')
    const bus = await h.bus()
    let running = 0
    let maxRunning = 0
    let done = 0
    const subscription = await bus.subscribe(
      topic,
      async () => {
        running++
        maxRunning = Math.max(maxRunning, running)
        await pause(20)
        running--
        done++
      },
      { group: 'backpressure', concurrency: 2, prefetch: 4 },
    )
    await bus.publishBatch(
      topic,
      Array.from({ length: 40 }, (_, i) => ({ type: 'conformance.bp', data: { i } })),
    )
    await h.until(() => done >= 40, '40 slow events')
    expect(maxRunning).toBe(2)
    const stats = subscription.stats()
    expect(stats.maxInFlight).toBe(2)
    expect(stats.maxHeld).toBeLessThanOrEqual(4)
  })
}
