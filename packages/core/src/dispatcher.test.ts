import { describe, expect, it } from 'vitest'
import { Dispatcher, type DispatcherWork } from './dispatcher.js'
import { LATER, type Ticket } from './later.js'
import type { InboundMessage, TransportSubscription } from './transport.js'

function source(messages: InboundMessage[]): TransportSubscription & { pulls: number[] } {
  const pulls: number[] = []
  let closed = false
  return {
    pulls,
    pull(max, signal, deliver, fail) {
      pulls.push(max)
      const read = async () => {
        if (messages.length === 0 || closed) {
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
          return []
        }
        // An answer a turn later, as a promise-based client gives it.
        await Promise.resolve()
        return messages.splice(0, max)
      }
      read().then(deliver, fail)
    },
    async close() {
      closed = true
    },
  }
}

/**
 * The same source answering in the caller's turn; `push` adds messages later
 * and answers an open request at once, as the Kafka transport's `eachBatch` does. It answers
 * with at most `most` messages however many are asked for.
 */
function pushSource(
  messages: InboundMessage[],
  most = Number.POSITIVE_INFINITY,
): TransportSubscription & { pulls: number[]; push(...more: InboundMessage[]): void } {
  const pulls: number[] = []
  let open: { max: number; deliver: (messages: InboundMessage[]) => void } | undefined
  const src = {
    pulls,
    pull(
      max: number,
      signal: AbortSignal,
      deliver: (messages: InboundMessage[]) => void,
      _fail: (error: unknown) => void,
    ) {
      pulls.push(max)
      if (signal.aborted) return deliver([])
      if (messages.length > 0) return deliver(messages.splice(0, Math.min(max, most)))
      open = { max, deliver }
      signal.addEventListener('abort', () => open?.deliver([]), { once: true })
    },
    push(...more: InboundMessage[]) {
      messages.push(...more)
      if (open === undefined) return
      const { max, deliver } = open
      open = undefined
      deliver(messages.splice(0, Math.min(max, most)))
    },
    async close() {},
  }
  return src
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

function dispatcher(
  src: TransportSubscription,
  concurrency: number,
  prefetch: number,
  process: DispatcherWork['process'],
  onError: DispatcherWork['onError'] = () => undefined,
  giveBack: DispatcherWork['giveBack'] = async () => undefined,
): Dispatcher {
  return new Dispatcher(src, concurrency, prefetch, { process, onError, giveBack })
}

describe.each([
  ['answered later', source],
  ['answered at once', pushSource],
])('dispatcher (%s)', (_, source) => {
  it('dispatcher - lanes keep per-key order while different keys run in parallel', async () => {
    const log: string[] = []
    const messages = []
    for (let n = 0; n < 20; n++)
      for (const key of ['a', 'b', 'c']) messages.push(message(key, n, log))
    const order = new Map<string, number[]>()
    let running = 0
    let maxRunning = 0
    let done = 0
    const d = dispatcher(
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
    d.start()
    while (done < 60) await tick()
    const expected = Array.from({ length: 20 }, (_, i) => i)
    expect(order.get('a')).toEqual(expected)
    expect(order.get('b')).toEqual(expected)
    expect(order.get('c')).toEqual(expected)
    expect(maxRunning).toBe(3)
    await d.stop(1_000)
  })

  it('dispatcher - work that returns LATER holds its slot and lane until complete(ticket)', async () => {
    const log: string[] = []
    const messages = [message('a', 1, log), message('a', 2, log), message(undefined, 3, log)]
    const open: Array<{ n: string; ticket: Ticket }> = []
    const d = dispatcher(source(messages), 2, 8, (m, _slot, ticket) => {
      open.push({ n: m.position!, ticket })
      return LATER
    })
    d.start()
    while (open.length < 2) await tick()
    await tick()
    // Two slots: a:1 and the keyless 3 run; a:2 waits behind a:1 in its lane.
    expect(open.map((o) => o.n).sort()).toEqual(['1', '3'])
    expect(d.stats()).toMatchObject({ inFlight: 2, held: 3 })
    const first = open.find((o) => o.n === '1')!
    d.complete(first.ticket)
    while (open.length < 3) await tick()
    expect(open[2]!.n).toBe('2')
    let stopped = false
    const stopping = d.stop(5_000).then((finished) => {
      stopped = finished
    })
    await tick()
    expect(stopped).toBe(false)
    for (const o of open.slice(1)) d.complete(o.ticket)
    await stopping
    expect(stopped).toBe(true)
  })

  it('dispatcher - never pulls past prefetch and never runs past concurrency', async () => {
    const log: string[] = []
    const messages = Array.from({ length: 50 }, (_, n) => message(undefined, n, log))
    const src = source(messages)
    let running = 0
    let maxRunning = 0
    let done = 0
    const d = dispatcher(
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
    d.start()
    while (done < 50) await tick()
    expect(maxRunning).toBe(2)
    expect(d.stats().maxHeld).toBeLessThanOrEqual(5)
    expect(Math.max(...src.pulls)).toBeLessThanOrEqual(5)
    await d.stop(1_000)
  })

  it('dispatcher - stop waits for running work and gives back what never started', async () => {
    const log: string[] = []
    const messages = Array.from({ length: 10 }, (_, n) => message('k', n, log))
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const started: number[] = []
    const givenBack: string[] = []
    const d = dispatcher(
      source(messages),
      4,
      10,
      async (m) => {
        started.push(Number(m.position))
        await gate
      },
      () => undefined,
      async (m) => void givenBack.push(m.position!),
    )
    d.start()
    while (started.length < 1) await tick()
    const stopping = d.stop(1_000)
    release()
    expect(await stopping).toBe(true)
    expect(started).toEqual([0])
    expect(givenBack).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9'])
  })
})

describe('dispatcher (answered at once)', () => {
  it('dispatcher - a pushed message starts its handler before the push returns', async () => {
    const log: string[] = []
    const src = pushSource([])
    const started: string[] = []
    const d = dispatcher(
      src,
      4,
      10,
      (m) => {
        started.push(m.position!)
        void m.ack()
        return undefined
      },
      () => undefined,
    )
    d.start()
    src.push(message(undefined, 1, log))
    expect(started).toEqual(['1'])
    src.push(message('k', 2, log), message('k', 3, log))
    expect(started).toEqual(['1', '2', '3'])
    expect(log).toEqual(['ack undefined:1', 'ack k:2', 'ack k:3'])
    await d.stop(1_000)
  })

  it('dispatcher - a source answering one message per request runs at one stack depth', async () => {
    const log: string[] = []
    const messages = Array.from({ length: 2_000 }, (_, n) => message('k', n, log))
    const src = pushSource(messages, 1)
    const seen: number[] = []
    const depths: number[] = []
    const pull = src.pull.bind(src)
    src.pull = (...args) => {
      depths.push(new Error().stack!.split('\n').length)
      pull(...args)
    }
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = Number.POSITIVE_INFINITY
    const d = dispatcher(
      src,
      1,
      5_000,
      (m) => {
        seen.push(Number(m.position))
        return undefined
      },
      () => undefined,
    )
    try {
      d.start()
    } finally {
      Error.stackTraceLimit = limit
    }
    expect(seen).toEqual(Array.from({ length: 2_000 }, (_, i) => i))
    // Each answer after the first comes from the loop's own request and waits for it to return.
    expect(Math.max(...depths) - Math.min(...depths)).toBeLessThanOrEqual(4)
    await d.stop(1_000)
  })

  it('dispatcher - a failed pull is reported and asked again after a pause', async () => {
    const errors: unknown[] = []
    let calls = 0
    const log: string[] = []
    const handled: string[] = []
    const src: TransportSubscription = {
      pull(_max, signal, deliver, fail) {
        calls++
        if (calls === 1) return fail(new Error('broker away'))
        if (calls === 2) return deliver([message(undefined, 7, log)])
        signal.addEventListener('abort', () => deliver([]), { once: true })
      },
      async close() {},
    }
    const d = dispatcher(
      src,
      1,
      10,
      (m) => void handled.push(m.position!),
      (error) => void errors.push(error),
    )
    d.start()
    expect(errors).toHaveLength(1)
    expect(handled).toEqual([])
    while (handled.length === 0) await tick()
    expect(handled).toEqual(['7'])
    await d.stop(1_000)
    expect(calls).toBe(3)
  })
})
