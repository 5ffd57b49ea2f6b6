import { describe, expect, it } from 'vitest'
import { idBefore, idBeforeTime, idTime, StreamEntry, toFields, topicKeys } from './mapping.js'

const asBuffers = (fields: Array<string | Buffer | number>) =>
  fields.map((f) => (Buffer.isBuffer(f) ? f : Buffer.from(String(f))))
const fromFields = (fields: Buffer[]) => {
  const { headers, body, key } = new StreamEntry('t', '1700000000123-0', fields, 1)
  return { headers, body, key }
}

describe('mapping - entry fields', () => {
  it("mapping - the codec's text is sent as the data field; the bytes are not read", () => {
    const message = {
      id: 'e1',
      key: undefined,
      headers: { ce_id: 'e1' },
      text: '{"a":1}',
      get body(): Uint8Array {
        throw new Error('body read')
      },
    }
    expect(toFields(message)).toEqual(['ce_id', 'e1', 'data', '{"a":1}'])
  })

  it('mapping - headers become fields and the body one data field, both ways', () => {
    const body = new Uint8Array([0, 1, 254, 255])
    const fields = toFields({
      id: 'e1',
      key: 'k1',
      headers: { ce_id: 'e1', ce_partitionkey: 'k1', 'content-type': 'application/octet-stream' },
      body,
    })
    expect(fields.slice(0, 6)).toEqual([
      'ce_id',
      'e1',
      'ce_partitionkey',
      'k1',
      'content-type',
      'application/octet-stream',
    ])
    expect(fields[6]).toBe('data')
    expect(Buffer.isBuffer(fields[7])).toBe(true) // not UTF-8: sent as bytes
    const back = fromFields(asBuffers(fields))
    expect(back.headers).toEqual({
      ce_id: 'e1',
      ce_partitionkey: 'k1',
      'content-type': 'application/octet-stream',
    })
    expect(back.key).toBe('k1')
    expect(Buffer.compare(Buffer.from(back.body), Buffer.from(body))).toBe(0)
  })

  it('mapping - a UTF-8 body is sent as a string, bytes unchanged', () => {
    const text = JSON.stringify({ text: 'Zoë ✓ 🚀' })
    const body = new Uint8Array(Buffer.from(text)) // a plain Uint8Array, not a Buffer
    const fields = toFields({ id: 'e', key: undefined, headers: {}, body })
    expect(fields.at(-1)).toBe(text)
    expect(Buffer.from(fromFields(asBuffers(fields)).body).toString()).toBe(text)
  })

  it('mapping - a key the headers do not carry travels in its own field', () => {
    const fields = toFields({
      id: 'e',
      key: 'order-7',
      headers: { 'content-type': 'x' },
      body: new Uint8Array(),
    })
    expect(fields).toContain('key')
    expect(fromFields(asBuffers(fields)).key).toBe('order-7')
  })

  it('mapping - headers named like reserved fields survive the round trip', () => {
    const headers = { data: 'h1', key: 'h2', '~x': 'h3', ünï: 'çødé ☕' }
    const fields = toFields({ id: 'e', key: undefined, headers, body: Buffer.from('b') })
    const back = fromFields(asBuffers(fields))
    expect(back.headers).toEqual(headers)
    expect(back.key).toBeUndefined()
    expect(Buffer.from(back.body).toString()).toBe('b')
  })

  it('mapping - entries from other clients decode without throwing', () => {
    expect(fromFields(asBuffers(['hello', 'world']))).toEqual({
      headers: { hello: 'world' },
      body: new Uint8Array(0),
      key: undefined,
    })
    expect(fromFields(asBuffers(['odd']))).toEqual({
      headers: {},
      body: new Uint8Array(0),
      key: undefined,
    })
  })

  it('mapping - keys of one topic share a hash tag', () => {
    const keys = topicKeys('app', 'orders.v1')
    expect(keys.stream).toBe('{app:orders.v1}:stream')
    expect(keys.delay('g')).toBe('{app:orders.v1}:delay:g')
    expect(keys.attempts('g')).toBe('{app:orders.v1}:attempts:g')
  })
})

describe('mapping - entry time', () => {
  it('time - an entry id gives the millisecond Redis added it', () => {
    expect(idTime('1700000000123-4')).toBe(1_700_000_000_123)
    expect(idTime('0-1')).toBeUndefined()
    expect(idTime('nope')).toBeUndefined()
  })

  it('time - an inbound entry carries its id time as timestamp', () => {
    const entry = new StreamEntry('t', '1700000000123-4', [], 1)
    expect(entry.timestamp).toBe(1_700_000_000_123)
  })
})

describe('mapping - start positions', () => {
  it('start - a time starts right after the last id of the millisecond before', () => {
    expect(idBeforeTime(1_700_000_000_000)).toBe('1699999999999-18446744073709551615')
    expect(idBeforeTime(0)).toBe('0')
  })

  it('start - a stream id starts at that id, inclusive', () => {
    expect(idBefore('1700000000000-5')).toBe('1700000000000-4')
    expect(idBefore('1700000000000-0')).toBe('1699999999999-18446744073709551615')
    expect(idBefore(1_700_000_000_000)).toBe('1699999999999-18446744073709551615')
    expect(idBefore(0n)).toBe('0')
    expect(idBefore('not-an-id')).toBe('')
  })
})
