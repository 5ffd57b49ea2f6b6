import { binaryCodec, createEvent } from '@switchyard/core'
import { describe, expect, it } from 'vitest'
import { readBody, readHeaders, readKey, recordSize, toRecord } from './mapping.js'

const body = new Uint8Array(Buffer.from('{"a":1}'))

describe('mapping', () => {
  it('record key - the partitionkey only (never the subject), else none', () => {
    expect(toRecord({ id: '1', key: 'order-7', headers: { ce_subject: 's' }, body }).key).toBe(
      'order-7',
    )
    expect(toRecord({ id: '1', key: undefined, headers: { ce_subject: 's' }, body }).key).toBeNull()
    expect(toRecord({ id: '1', key: undefined, headers: {}, body }).key).toBeNull()
  })

  it('record value and headers - CloudEvents binary mode passes through byte for byte', () => {
    const record = toRecord({
      id: '1',
      key: undefined,
      headers: { ce_id: '1', 'content-type': 'application/json' },
      body,
    })
    expect(record.value!.toString()).toBe('{"a":1}')
    expect(record.headers).toEqual({ ce_id: '1', 'content-type': 'application/json' })
    expect(recordSize(record)).toBeGreaterThan(7 + 'ce_id'.length + 'content-type'.length)
  })

  it('record value - text goes as the string kafkajs writes, sized in UTF-8 bytes', () => {
    const text = '{"name":"Zoë"}'
    const asText = toRecord({ id: '1', key: undefined, headers: {}, body, text })
    expect(asText.value).toBe(text)
    const asBytes = toRecord({ id: '1', key: undefined, headers: {}, body: Buffer.from(text) })
    expect(recordSize(asText)).toBe(recordSize(asBytes))
    expect(recordSize(asText)).toBe(24 + Buffer.byteLength(text))
  })

  it('fetched records - headers as text (last of repeated ones), empty key is none, null value is empty', () => {
    const record = {
      key: Buffer.alloc(0),
      value: null,
      offset: '4',
      timestamp: '0',
      headers: { ce_id: Buffer.from('x'), ce_type: [Buffer.from('a'), 'b'], skip: undefined },
      attributes: 0,
    }
    expect(readHeaders(record)).toEqual({ ce_id: 'x', ce_type: 'b' })
    expect(readKey(record)).toBeUndefined()
    expect(readBody(record).byteLength).toBe(0)
    expect(readKey({ ...record, key: Buffer.from('k1') })).toBe('k1')
  })

  it('record value - an event without data is a record without a value; empty data of a type is not', () => {
    const codec = binaryCodec()
    const encode = (input: Parameters<typeof createEvent>[0]) => {
      const { headers, body } = codec.encode(createEvent(input, { source: 'test' }))
      return toRecord({ id: '1', key: undefined, headers, body })
    }
    expect(encode({ type: 'no.data' }).value).toBeNull()
    expect(encode({ type: 'empty.bytes', data: new Uint8Array(0) }).value).toEqual(Buffer.alloc(0))
    expect(
      encode({ type: 'empty.text', data: '', datacontenttype: 'text/plain' }).value?.length,
    ).toBe(0)
  })
})
