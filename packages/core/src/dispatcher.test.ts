import { describe, expect, it } from 'vitest'
import { Dispatcher } from './dispatcher.js'
import type { InboundMessage, TransportSubscription } from './transport.js'

function source(messages: InboundMessage[]): TransportSubscription & { pulls: number[] } {
  const pulls: number[] = []
  let closed = false
  return {
    pulls,
    async pull(max, signal) {
      pulls.push(max)
      if (messages.length === 0 || closed) {
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
        return []
      }
      return messages.splice(0, max)
    },
    async close() {
      closed = true
    },
  }
}

function message(key: string | undefined, n: number, log: string[]): InboundMessage {
  return {
    topic: 't',
    headers: {},
    body: new Uint8Array(),
    key,
    attempt: 1,
    position: String(n),
    ack: () => void log.push(`ack ${key}:${n}`),
    nack: () => void log.push(`nack ${key}:${n}`),
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 1))

describe('dispatcher', () => {
  it('dispatcher - lanes keep per-key order while different keys run in parallel', async () => {
    const log: string[] = []
    const messages = []
    for (let n = 0; n < 20; n++)
      for (const key of ['a', 'b', 'c']) messages.push(message(key, n, log))
    const order = new Map<string, number[]>()
    let running = 0
    let maxRunning = 0
    let done = 0
    const dispatcher = new Dispatcher(
      source(messages),
      8,
      64,
      async (m) => {
        running++
        maxRunning = Math.max(maxRunning, running)
        await tick()
        order.set(m.key!, [...(order.get(m.key!) ?? []), Number(m.position)])
        running--
        done++
      },
      () => undefined,
    )
    dispatcher.start()
    while (done < 60) await tick()
    const expected = Array.from({ length: 20 }, (_, i) => i)
    expect(order.get('a')).toEqual(expected)
    expect(order.get('b')).toEqual(expected)
    expect(order.get('c')).toEqual(expected)
    expect(maxRunning).toBe(3)
    await dispatcher.stop(1_000, async () => undefined)
  })

  it('dispatcher - never pulls past prefetch and never runs past concurrency', async () => {
    const log: string[] = []
    const messages = Array.from({ length: 50 }, (_, n) => message(undefined, n, log))
    const src = source(messages)
    let running = 0
    let maxRunning = 0
    let done = 0
    const dispatcher = new Dispatcher(
      src,
      2,
      5,
      async () => {
        running++
        maxRunning = Math.max(maxRunning, running)
        await tick()
        running--
        done++
      },
      () => undefined,
    )
    dispatcher.start()
    while (done < 50) await tick()
    expect(maxRunning).toBe(2)
    expect(dispatcher.stats().maxHeld).toBeLessThanOrEqual(5)
    expect(Math.max(...src.pulls)).toBeLessThanOrEqual(5)
    await dispatcher.stop(1_000, async () => undefined)
  })

  it('dispatcher - stop waits for running work and gives back what never started', async () => {
    const log: string[] = []
    const messages = Array.from({ length: 10 }, (_, n) => message('k', n, log))
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const started: number[] = []
    const dispatcher = new Dispatcher(
      source(messages),
      4,
      10,
      async (m) => {
        started.push(Number(m.position))
        await gate
      },
      () => undefined,
    )
    dispatcher.start()
    while (started.length < 1) await tick()
    const givenBack: string[] = []
    const stopping = dispatcher.stop(1_000, async (m) => void givenBack.push(m.position!))
    release()
    expect(await stopping).toBe(true)
    expect(started).toEqual([0])
    expect(givenBack).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9'])
  })
})
