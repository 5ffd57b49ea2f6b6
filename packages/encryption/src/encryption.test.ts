import { randomBytes } from 'node:crypto'
import { createMemoryBroker, memoryTransport } from '@switchyard/adapter-memory'
import {
  ConfigurationError,
  constant,
  createEventBus,
  type DeadLetterRecord,
  type EventBus,
  type EventEnvelope,
  type Middleware,
  silentLogger,
} from '@switchyard/core'
import { waitUntil } from '@switchyard/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { encryption } from './encryption.js'
import { type KeyProvider, staticKeys } from './key-provider.js'

const k1 = randomBytes(32)
const keys = staticKeys({ current: 'k1', keys: { k1 } })
const buses: EventBus[] = []
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()))
})

function bus(middleware: Middleware[], broker = createMemoryBroker()): EventBus {
  const b = createEventBus({
    transport: memoryTransport({ broker }),
    source: 'payroll',
    middleware,
    logger: silentLogger,
  })
  buses.push(b)
  return b
}

/** Records what the next middleware sees on publish and on handle. */
function spy(): { mw: Middleware; published: EventEnvelope[]; handled: EventEnvelope[] } {
  const published: EventEnvelope[] = []
  const handled: EventEnvelope[] = []
  const mw: Middleware = {
    name: 'spy',
    publish: (ctx, next) => {
      published.push(ctx.event)
      return next()
    },
    handle: (ctx, next) => {
      handled.push(ctx.event)
      return next()
    },
  }
  return { mw, published, handled }
}

async function deadLetters(b: EventBus, topic: string, count: number) {
  let entries: DeadLetterRecord[] = []
  await waitUntil(
    async () => {
      entries = await b.deadLetters.list(`${topic}.dlq`)
      return entries.length === count
    },
    { timeoutMs: 5_000, message: `${count} dead letters` },
  )
  return entries
}

describe('encryption - options', () => {
  it('encryption - a missing key provider, unknown options and non-boolean flags are ConfigurationErrors', () => {
    expect(() => encryption(undefined as unknown as KeyProvider)).toThrow(ConfigurationError)
    expect(() => encryption(keys, { publsh: false } as never)).toThrow(
      /Unknown option encryption\.publsh/,
    )
    expect(() => encryption(keys, { requireEncrypted: 'yes' as never })).toThrow(ConfigurationError)
  })

  it('encryption - staticKeys wants 32-byte keys, well-formed ids and a current key among them', () => {
    expect(() => staticKeys({ current: 'k1', keys: { k1: randomBytes(16) } })).toThrow(/32 bytes/)
    expect(() => staticKeys({ current: 'k2', keys: { k1 } })).toThrow(/not one of keys \(k1\)/)
    expect(() => staticKeys({ current: 'k 1', keys: { 'k 1': k1 } })).toThrow(ConfigurationError)
    expect(() => staticKeys({ current: 'k1', keys: { k1 }, extra: 1 } as never)).toThrow(
      ConfigurationError,
    )
  })
})

describe('encryption - on the memory transport', () => {
  it('encryption - publish seals data and keeps every other attribute; the event passed in is not changed', async () => {
    const { mw, published } = spy()
    const b = bus([encryption(keys), mw])
    const input = { type: 'salary.set', tenantid: 'acme', subject: 's1', data: { amount: 1 } }
    await b.publish('pay', input)
    const sealed = published[0]!
    expect(sealed.type).toBe('salary.set')
    expect(sealed.tenantid).toBe('acme')
    expect(sealed.subject).toBe('s1')
    expect(sealed.datacontenttype).toBe('application/octet-stream')
    expect(sealed.extensions).toEqual({ enckeyid: 'k1', enccontenttype: 'application/json' })
    expect(sealed.data).toBeInstanceOf(Uint8Array)
    expect(Buffer.from(sealed.data as Uint8Array).includes('amount')).toBe(false)
    expect(input.data).toEqual({ amount: 1 })
  })

  it('encryption - tenant and type filters still select sealed events', async () => {
    const b = bus([encryption(keys)])
    const seen: EventEnvelope[] = []
    await b.subscribe('pay', (e) => void seen.push(e), { tenant: 'acme', types: ['salary.*'] })
    await b.publish('pay', { type: 'salary.set', tenantid: 'globex', data: 1 })
    await b.publish('pay', { type: 'bonus.set', tenantid: 'acme', data: 2 })
    await b.publish('pay', { type: 'salary.set', tenantid: 'acme', data: 3 })
    await waitUntil(() => seen.length === 1, { timeoutMs: 5_000, message: 'the acme salary' })
    expect(seen[0]!.data).toBe(3)
  })

  it('encryption - two halves around a validator: it sees plaintext on publish and on handle', async () => {
    const { mw, published, handled } = spy()
    const b = bus([encryption(keys, { publish: false }), mw, encryption(keys, { consume: false })])
    const seen: EventEnvelope[] = []
    await b.subscribe('pay', (e) => void seen.push(e))
    await b.publish('pay', { type: 'salary.set', data: { amount: 5 } })
    await waitUntil(() => seen.length === 1, { timeoutMs: 5_000, message: 'the event' })
    expect(published[0]!.data).toEqual({ amount: 5 })
    expect(handled[0]!.data).toEqual({ amount: 5 })
    expect(seen[0]!.data).toEqual({ amount: 5 })
  })

  it('encryption - a retried attempt is opened again; after the last one the dead letter keeps the ciphertext', async () => {
    const b = bus([encryption(keys)])
    const seen: unknown[] = []
    await b.subscribe(
      'pay',
      (e) => {
        seen.push(e.data)
        throw new Error('payroll is down')
      },
      { retry: { maxAttempts: 2, backoff: constant(1) } },
    )
    await b.publish('pay', { type: 'salary.set', data: 'secret-amount' })
    const [entry] = await deadLetters(b, 'pay', 1)
    expect(seen).toEqual(['secret-amount', 'secret-amount'])
    expect(entry!.reason).toMatch(/gave up after 2 attempts/)
    expect(entry!.event?.extensions?.enckeyid).toBe('k1')
    expect(Buffer.from(entry!.message.body, 'base64').includes('secret-amount')).toBe(false)
  })

  it('encryption - a key provider that fails on consume retries the delivery instead of dead-lettering', async () => {
    let failures = 1
    const flaky: KeyProvider = {
      current: async () => ({ id: 'k1', key: k1 }),
      get: async (id) => {
        if (failures-- > 0) throw new Error('KMS unreachable')
        return id === 'k1' ? k1 : undefined
      },
    }
    const b = bus([encryption(flaky)])
    const seen: unknown[] = []
    await b.subscribe('pay', (e) => void seen.push(e.data), {
      retry: { maxAttempts: 3, backoff: constant(1) },
    })
    await b.publish('pay', { type: 'salary.set', data: { amount: 9 } })
    await waitUntil(() => seen.length === 1, { timeoutMs: 5_000, message: 'the retried event' })
    expect(seen[0]).toEqual({ amount: 9 })
    expect(await b.deadLetters.list('pay.dlq')).toEqual([])
  })

  it('encryption - plaintext passes by default; with requireEncrypted it is dead-lettered', async () => {
    const broker = createMemoryBroker()
    const plain = bus([], broker)
    const lenient = bus([encryption(keys)], broker)
    const strict = bus([encryption(keys, { requireEncrypted: true })], broker)
    const seen: EventEnvelope[] = []
    const strictSeen: EventEnvelope[] = []
    await lenient.subscribe('pay', (e) => void seen.push(e), { group: 'lenient' })
    await strict.subscribe('pay', (e) => void strictSeen.push(e), { group: 'strict' })
    await plain.publish('pay', { type: 'salary.set', data: 'open' })
    await waitUntil(() => seen.length === 1, { timeoutMs: 5_000, message: 'the plain event' })
    const [entry] = await deadLetters(strict, 'pay', 1)
    expect(entry!.reason).toMatch(/not encrypted .* requireEncrypted/)
    expect(entry!.error.name).toBe('DecryptionError')
    expect(entry!.error.code).toBe('ERR_DECODE')
    expect(strictSeen).toEqual([])
  })

  it('encryption - events without data and events already sealed are published as they are', async () => {
    const { mw, published } = spy()
    const b = bus([encryption(keys), mw])
    const seen: EventEnvelope[] = []
    await b.subscribe('pay', (e) => void seen.push(e))
    await b.publish('pay', { type: 'ping' })
    expect(published[0]!.extensions).toBeUndefined()
    const sealed = published.length
    await b.publish('pay', { type: 'salary.set', data: [1, 2] })
    // Handing the sealed event back to publish (a forwarder) does not seal it twice.
    await b.publish('pay', published[sealed]!)
    await waitUntil(() => seen.length === 3, { timeoutMs: 5_000, message: '3 events' })
    expect(seen.map((e) => e.data)).toEqual([undefined, [1, 2], [1, 2]])
  })
})
