import { randomBytes } from 'node:crypto'
import {
  createEventBus,
  type DeadLetterRecord,
  type EventBus,
  type EventEnvelope,
  type EventInput,
  type Middleware,
  silentLogger,
} from '@switchyard/core'
import { waitUntil } from '@switchyard/testkit'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { encryption, staticKeys } from '../src/index.js'
import { brokers, type RawRecord, unique } from './brokers.js'

const all = await brokers()
afterAll(async () => {
  await Promise.all(all.map((b) => b.cleanup()))
})

const SECRET = 'salary-4217-confidential'
const k1 = randomBytes(32)
const k2 = randomBytes(32)
const onlyK1 = staticKeys({ current: 'k1', keys: { k1 } })
const rotated = staticKeys({ current: 'k2', keys: { k1, k2 } })

const buses: EventBus[] = []
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()))
})

/** Flips the last byte of sealed data (inside the GCM tag) after the encryption middleware. */
const flipTag: Middleware = {
  name: 'tamper',
  publish: async (ctx, next) => {
    const data = Buffer.from(ctx.event.data as Uint8Array)
    data[data.length - 1]! ^= 0x01
    ctx.event = { ...ctx.event, data }
    return next()
  },
}

/** Moves sealed data onto another tenant: the tenant is bound to the ciphertext. */
const moveTenant: Middleware = {
  name: 'tamper-tenant',
  publish: async (ctx, next) => {
    ctx.event = { ...ctx.event, tenantid: 'other-tenant' }
    return next()
  },
}

function attribute(record: RawRecord, name: string): string | undefined {
  return record.headers[`ce_${name}`] ?? record.headers[`ce-${name}`]
}

for (const broker of all) {
  describe.skipIf(broker.skip !== undefined)(`encryption on ${broker.name}`, () => {
    const bus = (middleware: Middleware[]) => {
      const b = createEventBus({
        transport: broker.make(),
        source: 'payroll',
        middleware,
        logger: silentLogger,
      })
      buses.push(b)
      return b
    }
    const collect = async (b: EventBus, topic: string) => {
      const seen: EventEnvelope[] = []
      await b.subscribe(topic, (event) => void seen.push(event), {
        group: unique('g'),
        startAt: 'earliest',
      })
      return seen
    }

    it('encryption - round trip: the handler gets JSON, text and binary data and every attribute back; the broker stores ciphertext', async () => {
      const topic = unique('enc-roundtrip')
      const b = bus([encryption(onlyK1)])
      const seen = await collect(b, topic)
      const common = { tenantid: 'acme', subject: 'emp-7', extensions: { region: 'eu' } }
      const sent: EventInput[] = [
        { type: 'salary.set', data: { note: SECRET, amount: 4217 }, ...common },
        { type: 'salary.note', datacontenttype: 'text/plain', data: SECRET, ...common },
        {
          type: 'salary.blob',
          datacontenttype: 'application/octet-stream',
          data: new Uint8Array(Buffer.from(SECRET)),
          ...common,
        },
      ]
      for (const event of sent) await b.publish(topic, event)
      await waitUntil(() => seen.length === 3, { timeoutMs: 30_000, message: '3 events handled' })
      const byType = new Map(seen.map((e) => [e.type, e]))
      expect(byType.get('salary.set')?.data).toEqual({ note: SECRET, amount: 4217 })
      expect(byType.get('salary.note')?.data).toBe(SECRET)
      expect(Buffer.from(byType.get('salary.blob')?.data as Uint8Array).toString()).toBe(SECRET)
      for (const event of seen) {
        expect(event.tenantid).toBe('acme')
        expect(event.subject).toBe('emp-7')
        expect(event.extensions).toEqual({ region: 'eu' })
      }
      expect(byType.get('salary.note')?.datacontenttype).toBe('text/plain')
      if (broker.raw === undefined) return
      const records = await broker.raw(topic, 3)
      expect(records).toHaveLength(3)
      for (const record of records) {
        expect(record.body.includes(SECRET)).toBe(false)
        expect(record.body.includes('4217')).toBe(false)
        expect(attribute(record, 'enckeyid')).toBe('k1')
        // Attributes stay readable at rest: routing, filters and tenancy need them.
        expect(attribute(record, 'tenantid')).toBe('acme')
        expect(attribute(record, 'subject')).toBe('emp-7')
      }
    })

    it('encryption - rotation: events sealed with the old key still open; new ones carry the new key id', async () => {
      const topic = unique('enc-rotation')
      const before = bus([encryption(onlyK1)])
      const after = bus([encryption(rotated)])
      const seen = await collect(after, topic)
      await before.publish(topic, { type: 'salary.set', data: { note: SECRET, v: 1 } })
      await after.publish(topic, { type: 'salary.set', data: { note: SECRET, v: 2 } })
      await waitUntil(() => seen.length === 2, { timeoutMs: 30_000, message: '2 events handled' })
      expect(seen.map((e) => (e.data as { v: number }).v).sort()).toEqual([1, 2])
      if (broker.raw === undefined) return
      const records = await broker.raw(topic, 2)
      expect(records.map((r) => attribute(r, 'enckeyid')).sort()).toEqual(['k1', 'k2'])
      for (const record of records) expect(record.body.includes(SECRET)).toBe(false)
    })

    it('encryption - tampered data, a moved tenant and an unknown key id are dead-lettered with the reason, never handled', async () => {
      const topic = unique('enc-bad')
      const consumer = bus([encryption(rotated)])
      const handled: EventEnvelope[] = []
      await consumer.subscribe(topic, (event) => void handled.push(event), {
        group: unique('g'),
        startAt: 'earliest',
      })
      const unknownKey = staticKeys({ current: 'k9', keys: { k9: randomBytes(32) } })
      await bus([encryption(onlyK1), flipTag]).publish(topic, { type: 'bad.tag', data: SECRET })
      await bus([encryption(onlyK1), moveTenant]).publish(topic, {
        type: 'bad.tenant',
        tenantid: 'acme',
        data: SECRET,
      })
      await bus([encryption(unknownKey)]).publish(topic, { type: 'bad.key', data: SECRET })
      await consumer.publish(topic, { type: 'good', data: SECRET })
      let entries: DeadLetterRecord[] = []
      await waitUntil(
        async () => {
          entries = await consumer.deadLetters.list(`${topic}.dlq`)
          return entries.length === 3 && handled.length === 1
        },
        { timeoutMs: 30_000, message: '3 dead letters and 1 handled event' },
      )
      expect(handled.map((e) => e.type)).toEqual(['good'])
      expect(handled[0]!.data).toBe(SECRET)
      const reason = (type: string) => entries.find((e) => e.event?.type === type)?.reason
      expect(reason('bad.tag')).toMatch(
        /could not decrypt: authentication failed under key id "k1"/,
      )
      expect(reason('bad.tenant')).toMatch(/authentication failed.*tenantid/)
      expect(reason('bad.key')).toMatch(/key id "k9" is unknown to the key provider/)
      for (const entry of entries) {
        expect(entry.error.name).toBe('DecryptionError')
        expect(entry.attempts).toBe(1)
        // The dead letter keeps the sealed original: nothing is decrypted into it.
        expect(Buffer.from(entry.message.body, 'base64').includes(SECRET)).toBe(false)
      }
    })
  })
}
