import {
  ConfigurationError,
  ConnectionError,
  createEventBus,
  dedup,
  type EventEnvelope,
  exponential,
  type Middleware,
  outcome,
  PublishError,
} from '@switchyard/core'
import { waitUntil } from '@switchyard/testkit'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryBroker, memoryTransport } from '../src/index.js'

const buses: Array<{ close(): Promise<void> }> = []
function bus(
  options: Parameters<typeof createEventBus>[0] extends infer O ? Partial<O> : never = {},
) {
  const b = createEventBus({ transport: memoryTransport(), source: 'test', ...options })
  buses.push(b)
  return b
}
afterEach(async () => {
  vi.useRealTimers()
  await Promise.all(buses.splice(0).map((b) => b.close()))
})

function fieldOf(error: unknown): string | undefined {
  expect(error).toBeInstanceOf(ConfigurationError)
  return (error as ConfigurationError).field
}

describe('bus - bad input fails at once with a typed error naming the field', () => {
  it('bus - publish without type or source', async () => {
    const b = createEventBus({ transport: memoryTransport() })
    buses.push(b)
    expect(fieldOf(await b.publish('t', { data: 1 } as never).catch((e) => e))).toBe('type')
    expect(fieldOf(await b.publish('t', { type: 'x' }).catch((e) => e))).toBe('source')
  })

  it('bus - a non-serialisable payload', async () => {
    const circular: Record<string, unknown> = {}
    circular.me = circular
    expect(
      fieldOf(
        await bus()
          .publish('t', { type: 'x', data: circular })
          .catch((e) => e),
      ),
    ).toBe('data')
    expect(
      fieldOf(
        await bus()
          .publish('t', { type: 'x', data: { n: 1n } })
          .catch((e) => e),
      ),
    ).toBe('data')
  })

  it('bus - unknown options and negative concurrency', async () => {
    const b = bus()
    const handler = () => undefined
    expect(
      fieldOf(await b.subscribe('t', handler, { concurency: 2 } as never).catch((e) => e)),
    ).toBe('subscribe.concurency')
    expect(fieldOf(await b.subscribe('t', handler, { concurrency: -1 }).catch((e) => e))).toBe(
      'subscribe.concurrency',
    )
    expect(
      fieldOf(await b.subscribe('t', handler, { retry: { maxAttempts: 0 } }).catch((e) => e)),
    ).toBe('retry.maxAttempts')
    expect(() => createEventBus({ transport: memoryTransport(), sauce: 'x' } as never)).toThrow(
      /createEventBus\.sauce/,
    )
    expect(() => memoryTransport({ maxQueueSize: -5 })).toThrow(/memoryTransport\.maxQueueSize/)
  })

  it('bus - a handler that throws never stops the subscription', async () => {
    const b = bus()
    const handled: number[] = []
    await b.subscribe(
      't',
      (event) => {
        const n = (event.data as { n: number }).n
        if (n % 2 === 0) throw new Error(`boom ${n}`)
        handled.push(n)
      },
      { retry: { maxAttempts: 1 } },
    )
    await b.publishBatch(
      't',
      Array.from({ length: 20 }, (_, n) => ({ type: 'x', data: { n } })),
    )
    await waitUntil(() => handled.length === 10)
    expect(handled).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19])
  })
})

describe('bus - retries and dead letters', () => {
  it('bus - backoff delays are honoured on the clock (fake timers), in process and via the broker', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    for (const inProcessMaxDelayMs of [10_000, 0]) {
      const b = bus()
      const at: number[] = []
      await b.subscribe(
        `retry-${inProcessMaxDelayMs}`,
        () => {
          at.push(Date.now())
          throw new Error('not yet')
        },
        {
          retry: {
            maxAttempts: 4,
            backoff: exponential({ baseMs: 100, jitter: false }),
            inProcessMaxDelayMs,
          },
        },
      )
      await b.publish(`retry-${inProcessMaxDelayMs}`, { type: 'x' })
      for (let i = 0; i < 40 && at.length < 4; i++) await vi.advanceTimersByTimeAsync(50)
      expect(at.slice(1).map((t, i) => t - at[i]!)).toEqual([100, 200, 400])
    }
  })

  it('bus - dead-letter entry shape, listing and replay to the original topic', async () => {
    const b = bus()
    let fail = true
    const handled: EventEnvelope[] = []
    await b.subscribe(
      'orders',
      (event) => {
        if (fail) throw new RangeError('stock service down')
        handled.push(event)
      },
      { group: 'billing', retry: { maxAttempts: 2, backoff: () => 1 } },
    )
    const original = await b.publish('orders', {
      type: 'order.placed',
      partitionkey: 'o-1',
      tenantid: 'acme',
      data: { id: 'o-1' },
    })
    let listed: Awaited<ReturnType<typeof b.deadLetters.list>> = []
    await waitUntil(async () => {
      listed = await b.deadLetters.list('orders.dlq')
      return listed.length === 1
    })
    const entry = listed[0]!
    expect(entry).toMatchObject({
      event: original,
      error: { name: 'RangeError', message: 'stock service down' },
      reason: 'gave up after 2 attempts',
      attempts: 2,
      topic: 'orders',
      group: 'billing',
      message: { key: 'o-1' },
    })
    expect(Object.keys(entry).sort()).toEqual(
      [
        'attempts',
        'deadLetteredAt',
        'error',
        'event',
        'group',
        'id',
        'message',
        'position',
        'reason',
        'topic',
      ].sort(),
    )
    fail = false
    expect(await b.deadLetters.replay('orders.dlq', { idleMs: 100 })).toBe(1)
    await waitUntil(() => handled.length === 1)
    expect(handled[0]).toEqual(original)
    expect(await b.deadLetters.replay('orders.dlq', { idleMs: 100, waitMs: 200 })).toBe(0)
  })

  it('bus - dead-letter publish failure keeps the event for redelivery', async () => {
    const transport = memoryTransport()
    const errors: string[] = []
    const b = bus({
      transport,
      publishRetry: false,
      hooks: { onError: (_e, where) => void errors.push(where) },
    })
    const attempts: number[] = []
    await b.subscribe(
      'jobs',
      (_e, ctx) => {
        attempts.push(ctx.attempt)
        // The next publish is the dead-letter publish of this very event: make it fail.
        if (ctx.attempt === 1) transport.faults.failNextPublishes(1)
        throw new Error('bad job')
      },
      { group: 'workers', retry: { maxAttempts: 1 } },
    )
    await b.publish('jobs', { type: 'job' })
    await waitUntil(() => errors.length === 1)
    expect(errors[0]).toContain('dead-letter publish')
    expect(await b.deadLetters.list('jobs.dlq')).toHaveLength(0)
    // Not acked: the broker redelivers it (attempt 2, past the budget of 1), and this time the
    // dead-letter publish succeeds without the handler running again.
    await waitUntil(async () => (await b.deadLetters.list('jobs.dlq')).length === 1)
    expect(attempts).toEqual([1])
    await waitUntil(() => transport.broker.backlog('jobs').workers?.inFlight === 0)
    expect(transport.broker.backlog('jobs').workers).toEqual({ waiting: 0, inFlight: 0 })
  })

  it('bus - one retry budget counts in-process retries and broker redeliveries together', async () => {
    const b = bus()
    const attempts: number[] = []
    await b.subscribe(
      'budget',
      (_e, ctx) => {
        attempts.push(ctx.attempt)
        throw new Error('still failing')
      },
      {
        group: 'g',
        // 100 ms waits in process; 200 ms and 400 ms go back to the broker.
        retry: {
          maxAttempts: 4,
          backoff: exponential({ baseMs: 100, jitter: false }),
          inProcessMaxDelayMs: 150,
        },
      },
    )
    await b.publish('budget', { type: 'x' })
    let listed: Awaited<ReturnType<typeof b.deadLetters.list>> = []
    await waitUntil(async () => {
      listed = await b.deadLetters.list('budget.dlq')
      return listed.length === 1
    })
    expect(attempts).toEqual([1, 2, 3, 4])
    expect(listed[0]).toMatchObject({ attempts: 4, reason: 'gave up after 4 attempts' })
  })

  it('bus - subscribe defaults that come with the transport apply; subscribe options win', async () => {
    const transport = Object.assign(memoryTransport(), {
      subscribeDefaults: { retry: { maxAttempts: 2, backoff: () => 1 } },
    })
    const b = bus({ transport })
    const attempts: Record<string, number[]> = { defaults: [], own: [] }
    for (const name of ['defaults', 'own'] as const) {
      await b.subscribe(
        name,
        (_e, ctx) => {
          attempts[name]!.push(ctx.attempt)
          throw new Error('no')
        },
        name === 'own' ? { retry: { maxAttempts: 3, backoff: () => 1 } } : {},
      )
      await b.publish(name, { type: 'x' })
    }
    await waitUntil(async () => (await b.deadLetters.list('own.dlq')).length === 1)
    await waitUntil(async () => (await b.deadLetters.list('defaults.dlq')).length === 1)
    expect(attempts).toEqual({ defaults: [1, 2], own: [1, 2, 3] })
  })

  it('bus - handler outcomes: retry after a delay, drop, dead-letter now', async () => {
    const transport = memoryTransport()
    const b = bus({ transport })
    const seen: Array<[string, number]> = []
    await b.subscribe(
      'outcomes',
      (event, ctx) => {
        seen.push([event.type, ctx.attempt])
        if (event.type === 'retry' && ctx.attempt === 1) return outcome.retry({ delayMs: 50 })
        if (event.type === 'drop') return outcome.drop('not ours')
        if (event.type === 'park') return outcome.deadLetter('no such customer')
        return undefined
      },
      { group: 'g', retry: { maxAttempts: 5 } },
    )
    const started = Date.now()
    await b.publish('outcomes', { type: 'retry' })
    await waitUntil(() => seen.length === 2)
    expect(Date.now() - started).toBeGreaterThanOrEqual(45)
    await b.publish('outcomes', { type: 'drop' })
    await b.publish('outcomes', { type: 'park' })
    let listed: Awaited<ReturnType<typeof b.deadLetters.list>> = []
    await waitUntil(async () => {
      listed = await b.deadLetters.list('outcomes.dlq')
      return listed.length === 1
    })
    expect(listed[0]).toMatchObject({ reason: 'no such customer', attempts: 1 })
    expect(listed[0]!.event?.type).toBe('park')
    await waitUntil(() => transport.broker.backlog('outcomes').g?.inFlight === 0)
    expect(seen).toEqual([
      ['retry', 1],
      ['retry', 2],
      ['drop', 1],
      ['park', 1],
    ])
  })
})

describe('bus - filters, middleware and dedup', () => {
  it('bus - type globs and tenant filters pick what a subscription handles', async () => {
    const b = bus()
    const got: string[] = []
    await b.subscribe('hr', (e) => void got.push(`${e.type}/${e.tenantid}`), {
      types: ['employee.*', 'leave.approved'],
      tenant: 'acme',
    })
    await b.publishBatch('hr', [
      { type: 'employee.created', tenantid: 'acme' },
      { type: 'employee.created', tenantid: 'other' },
      { type: 'employee.profile.updated', tenantid: 'acme' },
      { type: 'leave.approved', tenantid: 'acme' },
      { type: 'leave.created', tenantid: 'acme' },
    ])
    await waitUntil(() => got.length === 2)
    expect(got).toEqual(['employee.created/acme', 'leave.approved/acme'])
  })

  it('bus - publish and handle middleware run in order, around every event of a batch', async () => {
    const log: string[] = []
    const tag = (name: string): Middleware => ({
      name,
      async publish(ctx, next) {
        log.push(`${name} publish ${ctx.event.type}`)
        ctx.event = { ...ctx.event, extensions: { ...ctx.event.extensions, [name]: 'yes' } }
        await next()
      },
      async handle(ctx, next) {
        log.push(`${name} handle ${ctx.event.type}`)
        return next()
      },
    })
    const b = bus({ middleware: [tag('outer'), tag('inner')] })
    const seen: EventEnvelope[] = []
    await b.subscribe('m', (e) => void seen.push(e))
    const sent = await b.publishBatch('m', [{ type: 'a' }, { type: 'b' }])
    await waitUntil(() => seen.length === 2)
    expect(sent.map((e) => e.extensions)).toEqual([
      { outer: 'yes', inner: 'yes' },
      { outer: 'yes', inner: 'yes' },
    ])
    expect(seen).toEqual(sent)
    for (const type of ['a', 'b']) {
      expect(log.filter((line) => line.endsWith(` ${type}`))).toEqual([
        `outer publish ${type}`,
        `inner publish ${type}`,
        `outer handle ${type}`,
        `inner handle ${type}`,
      ])
    }
  })

  it('bus - middleware whose enabled() is false is skipped, and runs again once enabled', async () => {
    let on = false
    let calls = 0
    const gated: Middleware = {
      enabled: () => on,
      async publish(_ctx, next) {
        calls++
        await next()
      },
      async handle(_ctx, next) {
        calls++
        return next()
      },
    }
    const b = bus({ middleware: [gated] })
    let handled = 0
    await b.subscribe('g', () => void handled++)
    await b.publish('g', { type: 'x' })
    await waitUntil(() => handled === 1)
    expect(calls).toBe(0)
    on = true
    await b.publish('g', { type: 'x' })
    await waitUntil(() => handled === 2)
    expect(calls).toBe(2)
  })

  it('bus - transports get a JSON body as text too; a spread copy of the message keeps the bytes', async () => {
    const transport = memoryTransport()
    const seen: Array<{ text?: string; body: Uint8Array }> = []
    const publish = transport.publish.bind(transport)
    transport.publish = (topic, messages) => {
      for (const message of messages) seen.push({ ...message })
      return publish(topic, messages)
    }
    const b = bus({ transport })
    await b.publish('text', { type: 'text.test', data: { name: 'Zoë' } })
    await b.publish('text', { type: 'bytes.test', data: new Uint8Array([1, 2]) })
    expect(seen[0]!.text).toBe('{"name":"Zoë"}')
    expect(Buffer.from(seen[0]!.body).toString('utf8')).toBe('{"name":"Zoë"}')
    expect(seen[1]!.text).toBeUndefined()
    expect([...seen[1]!.body]).toEqual([1, 2])
  })

  it('bus - a transport with textBodies gets text and a body encoded only when read', async () => {
    const transport = memoryTransport()
    Object.assign(transport, { features: { ...transport.features, textBodies: true } })
    const seen: Array<{ text?: string; body: Uint8Array }> = []
    const publish = transport.publish.bind(transport)
    transport.publish = (topic, messages) => {
      seen.push(...messages)
      return publish(topic, messages)
    }
    const b = bus({ transport })
    await b.publish('lazy', { type: 'lazy.test', data: { n: 1 } })
    expect(seen[0]!.text).toBe('{"n":1}')
    expect(Object.getOwnPropertyDescriptor(seen[0], 'body')).toBeUndefined()
    expect(Buffer.from(seen[0]!.body).toString('utf8')).toBe('{"n":1}')
  })

  it('bus - a batch with one refused event sends nothing', async () => {
    const refuse: Middleware = {
      async publish(ctx, next) {
        if (ctx.event.type === 'bad')
          throw new PublishError('refused', { topic: ctx.topic, retryable: false })
        await next()
      },
    }
    const b = bus({ middleware: [refuse] })
    await expect(b.publishBatch('r', [{ type: 'ok' }, { type: 'bad' }])).rejects.toThrow('refused')
    expect(await b.transport.browse!('r', { limit: 10 })).toHaveLength(0)
  })

  it('bus - dedup middleware handles a redelivered duplicate once', async () => {
    const b = bus({ middleware: [dedup()] })
    const handled: string[] = []
    await b.subscribe('d', (e) => void handled.push(e.id), { group: 'g' })
    const event = await b.publish('d', { type: 'x' })
    await b.publish('d', { type: 'x', id: event.id, time: event.time })
    await b.publish('d', { type: 'y' })
    await waitUntil(() => handled.length >= 2)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(handled).toHaveLength(2)
  })
})

describe('memory transport - fault injection and limits', () => {
  it('bus - a retryable publish failure is retried and reported; a refusal is not retried', async () => {
    const transport = memoryTransport()
    const retries: string[] = []
    const b = bus({
      transport,
      publishRetry: { maxAttempts: 3, backoff: () => 5 },
      hooks: { onError: (_e, where) => void retries.push(where) },
    })
    transport.faults.failNextPublishes(2)
    await b.publish('f', { type: 'x' })
    expect(retries).toEqual([
      'publish to "f" (attempt 1, retrying in 5 ms)',
      'publish to "f" (attempt 2, retrying in 5 ms)',
    ])
    transport.faults.failNextPublishes(3)
    await expect(b.publish('f', { type: 'x' })).rejects.toBeInstanceOf(PublishError)
    const refusal = new PublishError('too large', { topic: 'f', retryable: false })
    transport.faults.failNextPublishes(1, refusal)
    retries.length = 0
    await expect(b.publish('f', { type: 'x' })).rejects.toBe(refusal)
    expect(retries).toEqual([])
  })

  it('memory transport - failNextPublishes, disconnect and reconnect', async () => {
    const transport = memoryTransport()
    const b = bus({ transport, publishRetry: false })
    transport.faults.failNextPublishes(2)
    await expect(b.publish('f', { type: 'x' })).rejects.toBeInstanceOf(PublishError)
    await expect(b.publish('f', { type: 'x' })).rejects.toBeInstanceOf(PublishError)
    await b.publish('f', { type: 'x' })
    transport.faults.disconnect()
    await expect(b.publish('f', { type: 'x' })).rejects.toBeInstanceOf(ConnectionError)
    expect((await b.health()).status).toBe('down')
    transport.faults.reconnect()
    expect((await b.health()).status).toBe('up')
  })

  it('memory transport - a disconnect while handling redelivers the event after reconnect', async () => {
    const transport = memoryTransport()
    const errors: string[] = []
    const b = bus({ transport, hooks: { onError: (e) => void errors.push(e.name) } })
    const seen: number[] = []
    const first = await b.subscribe('dc', (_e, ctx) => {
      seen.push(ctx.attempt)
      transport.faults.disconnect()
    })
    await b.publish('dc', { type: 'x' })
    await waitUntil(() => errors.length === 1)
    expect(errors).toEqual(['ConnectionError'])
    transport.faults.reconnect()
    await first.close()
    await b.subscribe('dc', (_e, ctx) => void seen.push(ctx.attempt))
    await waitUntil(() => seen.length === 2)
    expect(seen).toEqual([1, 2])
  })

  it('memory transport - maxQueueSize holds publishers back until the group catches up', async () => {
    const broker = createMemoryBroker()
    const b = bus({
      transport: memoryTransport({ broker, maxQueueSize: 10, publishTimeoutMs: 5_000 }),
    })
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    let handled = 0
    await b.subscribe(
      'q',
      async () => {
        await gate
        handled++
      },
      { prefetch: 1 },
    )
    await b.publishBatch(
      'q',
      Array.from({ length: 10 }, () => ({ type: 'x' })),
    )
    let published = false
    const blocked = b.publish('q', { type: 'x' }).then(() => {
      published = true
    })
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(published).toBe(false)
    expect(broker.backlog('q').default).toEqual({ waiting: 9, inFlight: 1 })
    release()
    await blocked
    await waitUntil(() => handled === 11)
  })

  it('memory transport - slow acks delay settlement but lose nothing', async () => {
    const transport = memoryTransport()
    transport.faults.slowAcks(200)
    const b = bus({ transport })
    let handled = 0
    await b.subscribe('s', () => void handled++, { concurrency: 4 })
    const started = Date.now()
    await b.publishBatch(
      's',
      Array.from({ length: 20 }, () => ({ type: 'x' })),
    )
    await waitUntil(() => handled === 20)
    await waitUntil(() => transport.broker.backlog('s').default?.inFlight === 0)
    // Every ack takes 200 ms, so the last one cannot have settled sooner.
    expect(Date.now() - started).toBeGreaterThanOrEqual(190)
    expect(transport.broker.backlog('s').default).toEqual({ waiting: 0, inFlight: 0 })
  })
})
