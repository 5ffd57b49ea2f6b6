import { headers as natsHeaders } from '@nats-io/transport-node'
import { ConfigurationError } from '@switchyard/core/transport'
import { describe, expect, it } from 'vitest'
import {
  autoStreamName,
  bindingEncode,
  consumerName,
  covers,
  decodeHeaderValue,
  deliverPolicy,
  encodeHeaderValue,
  fromNatsHeaders,
  isValidSubject,
  parseAckSubject,
  publishSubject,
  subjectsFor,
  toNatsHeaders,
  unquote,
} from './mapping.js'
import { serverFeatures } from './stream-registry.js'

describe('mapping - subjects', () => {
  it('subjects - a topic is its own subject unless aliased', () => {
    expect(subjectsFor('orders.created', {})).toEqual(['orders.created'])
    expect(subjectsFor('orders.all', { 'orders.all': 'orders.>' })).toEqual(['orders.>'])
    expect(subjectsFor('both', { both: ['a.*', 'b.*'] })).toEqual(['a.*', 'b.*'])
  })

  it('subjects - empty tokens and spaces are rejected with a ConfigurationError', () => {
    for (const topic of ['a..b', '.a', 'a.', 'a b']) {
      expect(() => subjectsFor(topic, {})).toThrow(ConfigurationError)
    }
  })

  it('subjects - publishing needs one literal subject', () => {
    expect(publishSubject('sy.orders', {})).toBe('sy.orders')
    expect(() => publishSubject('all', { all: 'orders.>' })).toThrow(/without wildcards/)
    expect(() => publishSubject('two', { two: ['a', 'b'] })).toThrow(ConfigurationError)
  })

  it('subjects - wildcards are valid only where allowed', () => {
    expect(isValidSubject('a.*.c', true)).toBe(true)
    expect(isValidSubject('a.>', true)).toBe(true)
    expect(isValidSubject('a.>.c', true)).toBe(false)
    expect(isValidSubject('a.*', false)).toBe(false)
    expect(isValidSubject('a/b:c@d~e', false)).toBe(true)
  })

  it('subjects - covers tells whether a stream pattern holds every subject of a filter', () => {
    expect(covers('orders.>', 'orders.created')).toBe(true)
    expect(covers('orders.>', 'orders.*.x')).toBe(true)
    expect(covers('orders.>', 'orders')).toBe(false)
    expect(covers('orders.*', 'orders.created')).toBe(true)
    expect(covers('orders.*', 'orders.a.b')).toBe(false)
    expect(covers('orders.*', 'orders.>')).toBe(false)
    expect(covers('a.b', 'a.b')).toBe(true)
    expect(covers('a.b', 'a.c')).toBe(false)
  })
})

describe('mapping - names', () => {
  it('names - stream names keep safe topics readable and hash the rest', () => {
    expect(autoStreamName('SY_', 'orders')).toBe('SY_orders')
    const dotted = autoStreamName('SY_', 'sy.orders')
    expect(dotted).toMatch(/^SY_sy_orders_[0-9a-f]{8}$/)
    expect(autoStreamName('SY_', 'sy_orders')).not.toBe(dotted)
    expect(autoStreamName('SY_', 'x'.repeat(300)).length).toBeLessThanOrEqual(3 + 120 + 9)
  })

  it('names - consumer names differ per group and per subject set', () => {
    const a = consumerName('billing', ['orders'])
    expect(a).toMatch(/^billing_[0-9a-f]{8}$/)
    expect(consumerName('billing', ['invoices'])).not.toBe(a)
    expect(consumerName('bill.ing', ['orders'])).toMatch(/^bill_ing_/)
  })
})

describe('mapping - startAt', () => {
  it('startAt - every form maps to a deliver policy', () => {
    expect(deliverPolicy('latest')).toEqual({ deliver_policy: 'new' })
    expect(deliverPolicy('earliest')).toEqual({ deliver_policy: 'all' })
    expect(deliverPolicy({ time: 0 })).toEqual({
      deliver_policy: 'by_start_time',
      opt_start_time: '1970-01-01T00:00:00.000Z',
    })
    expect(deliverPolicy({ sequence: 42n })).toEqual({
      deliver_policy: 'by_start_sequence',
      opt_start_seq: 42,
    })
  })

  it('startAt - a sequence below 1 or a bad time is a ConfigurationError', () => {
    expect(() => deliverPolicy({ sequence: 0 })).toThrow(ConfigurationError)
    expect(() => deliverPolicy({ time: 'yesterday' })).toThrow(ConfigurationError)
  })
})

describe('mapping - headers', () => {
  it('headers - values NATS would alter are percent-encoded, others go raw', () => {
    expect(encodeHeaderValue('naïve café ☕')).toBe('naïve café ☕')
    expect(encodeHeaderValue('  padded ')).toBe('%20 padded%20')
    expect(encodeHeaderValue('50%')).toBe('50%25')
    expect(encodeHeaderValue('a\r\nb')).toBe('a%0D%0Ab')
  })

  it('headers - decoding reverses encoding and keeps foreign values that are not encoded', () => {
    for (const value of ['  padded ', '50% off', 'a\r\nb', 'Grüße/日本/🚀', '%zz', '%', '']) {
      expect(decodeHeaderValue(encodeHeaderValue(value))).toBe(value)
    }
    expect(decodeHeaderValue('100% sure')).toBe('100% sure')
  })

  it('headers - round trip through NATS headers, names lower-cased, Nats-* left out', () => {
    const h = toNatsHeaders({ ce_id: '1', 'Content-Type': 'text/plain', 'Nats-Msg-Id': 'x' }, 'k1')
    expect(h.get('Nats-Msg-Id')).toBe('')
    const { headers, key } = fromNatsHeaders(h)
    expect(headers).toEqual({ 'ce-id': '1', 'content-type': 'text/plain' })
    expect(key).toBe('k1')
  })

  it('headers - the key comes from the partitionkey attribute without a second header', () => {
    const h = toNatsHeaders({ ce_partitionkey: 'k 1' }, 'k 1')
    expect(h.keys()).toEqual(['ce-partitionkey'])
    expect(h.get('ce-partitionkey')).toBe('k%201')
    expect(fromNatsHeaders(h).key).toBe('k 1')
    expect(fromNatsHeaders(undefined)).toEqual({ headers: {}, key: undefined })
  })
})

describe('mapping - CloudEvents NATS binding', () => {
  it('binding - space, double quote, percent and non-ASCII are percent-encoded, upper-case', () => {
    expect(bindingEncode('Euro € 😀')).toBe('Euro%20%E2%82%AC%20%F0%9F%98%80')
    expect(bindingEncode('"q" 100%')).toBe('%22q%22%20100%25')
    expect(bindingEncode('a\tb\u007f')).toBe('a%09b%7F')
    expect(bindingEncode('/orders?id=1&x=y')).toBe('/orders?id=1&x=y')
    expect(bindingEncode('')).toBe('')
  })

  it('binding - attributes go out as ce- headers, the data content type as ce-datacontenttype', () => {
    const h = toNatsHeaders(
      { ce_specversion: '1.0', ce_id: '1', ce_subject: 'Euro € 😀', 'content-type': 'text/plain' },
      undefined,
    )
    expect(h.keys().sort()).toEqual(['ce-datacontenttype', 'ce-id', 'ce-specversion', 'ce-subject'])
    expect(h.get('ce-subject')).toBe('Euro%20%E2%82%AC%20%F0%9F%98%80')
    expect(h.get('ce-datacontenttype')).toBe('text/plain')
  })

  it('binding - a structured-mode message keeps its content-type header', () => {
    const type = 'application/cloudevents+json; charset=utf-8'
    const h = toNatsHeaders({ 'content-type': type }, undefined)
    expect(h.keys()).toEqual(['content-type'])
    expect(fromNatsHeaders(h).headers['content-type']).toBe(type)
  })

  it('binding - ce- values reach core still encoded (core decodes them), quoted ones unquoted', () => {
    const h = natsHeaders()
    h.set('ce-subject', 'Euro%20%E2%82%AC')
    h.set('ce-type', '"a \\"b\\""')
    expect(fromNatsHeaders(h).headers).toEqual({
      'ce-subject': 'Euro%20%E2%82%AC',
      'ce-type': 'a "b"',
    })
    expect(unquote('"x')).toBe('"x')
  })

  it('binding - ce- headers as read go out again unchanged (a dead-letter replay)', () => {
    const read = { 'ce-specversion': '1.0', 'ce-subject': 'Euro%20%E2%82%AC', 'ce-x': 'a b' }
    const h = toNatsHeaders(read, undefined)
    expect(h.get('ce-subject')).toBe('Euro%20%E2%82%AC')
    expect(h.get('ce-x')).toBe('a%20b')
  })

  it('binding - ce_ headers of earlier versions are still decoded here', () => {
    const h = natsHeaders()
    h.set('ce_subject', '50%25 off')
    expect(fromNatsHeaders(h).headers).toEqual({ ce_subject: '50% off' })
  })
})

describe('mapping - ack subjects', () => {
  it('ack subjects - v1 and v2 layouts give stream, consumer, deliveries and sequence', () => {
    expect(parseAckSubject('$JS.ACK.S.C.3.42.40.1700000000000000000.7')).toEqual({
      stream: 'S',
      consumer: 'C',
      delivered: 3,
      sequence: 42,
      storedAt: 1_700_000_000_000,
    })
    expect(parseAckSubject('$JS.ACK.dom.acc.S.C.2.9.8.1700000000000000000.0.rnd')).toEqual({
      stream: 'S',
      consumer: 'C',
      delivered: 2,
      sequence: 9,
      storedAt: 1_700_000_000_000,
    })
    expect(parseAckSubject('$JS.ACK.S.C.1.5.5.x.0')?.storedAt).toBeUndefined()
    expect(parseAckSubject('_INBOX.x')).toBeUndefined()
    expect(parseAckSubject(undefined)).toBeUndefined()
  })
})

describe('server features - detection by version', () => {
  it('server features - 2.9 has no multiple filter subjects, 2.10 and later do', () => {
    expect(serverFeatures('2.9.10').multipleFilterSubjects).toBe(false)
    expect(serverFeatures('2.10.0').multipleFilterSubjects).toBe(true)
    expect(serverFeatures('2.11.3-beta').multipleFilterSubjects).toBe(true)
    expect(serverFeatures('v3.0.0').multipleFilterSubjects).toBe(true)
    expect(serverFeatures('garbage').multipleFilterSubjects).toBe(false)
  })
})
