import { ConfigurationError, type EventEnvelope } from '@switchyard/core'
import { expect, it } from 'vitest'
import { type Harness, pause } from './harness.js'

/** Scenarios 17-19: payloads, backpressure, reconnect after a broker restart. */
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

  it.skipIf(h.options.restart === undefined)(
    'reconnect - broker restarted at 1/3 and 1/2 of 10 000 events, none lost',
    async () => {
      const topic = await h.topic('restart')
      const producer = await h.bus()
      const consumer = await h.bus()
      const seen = new Set<string>()
      let deliveries = 0
      await consumer.subscribe(
        topic,
        (event) => {
          deliveries++
          seen.add(event.id)
        },
        { group: 'restart', concurrency: 16, retry: { maxAttempts: 100 } },
      )
      const sent: string[] = []
      let publishRetries = 0
      let restarting: Promise<void> = Promise.resolve()
      for (let batch = 0; batch < 100; batch++) {
        const events = Array.from({ length: 100 }, (_, i) => ({
          type: 'conformance.restart',
          id: `${topic}-${batch}-${i}`,
          data: { batch, i },
        }))
        for (;;) {
          try {
            await producer.publishBatch(topic, events)
            break
          } catch {
            // The broker is down: a real service retries; the same ids make it idempotent.
            publishRetries++
            await pause(100)
          }
        }
        sent.push(...events.map((e) => e.id))
        // Not awaited: publishing goes on (and retries) while the broker is away.
        if (batch === 33 || batch === 50) {
          await restarting
          restarting = h.options.restart!()
        }
      }
      await restarting
      await h.until(
        () => seen.size >= 10_000,
        '10 000 events across two restarts',
        () => {
          // Which batches are short says whether a send or a partition's consumption went astray.
          const missing = new Map<string, number>()
          for (const id of sent) {
            if (seen.has(id)) continue
            const batch = id.slice(topic.length + 1).split('-')[0]!
            missing.set(batch, (missing.get(batch) ?? 0) + 1)
          }
          const short = [...missing].map(([batch, n]) => `batch ${batch}: ${n}`).join(', ')
          return `${seen.size} seen; missing by batch: ${short}`
        },
      )
      expect(seen).toEqual(new Set(sent))
      console.info(
        `[conformance:${h.name}] restart: 10000 events, 0 lost, ${deliveries - seen.size} duplicates, ${publishRetries} publish retries`,
      )
    },
  )
}
