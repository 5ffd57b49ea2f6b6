import { describe, expect, it } from 'vitest'
import { binaryCodec, structuredCodec } from './codec.js'
import { createEvent } from './envelope.js'
import { ConfigurationError, DecodeError } from './errors.js'

const full = createEvent({
  type: 'employee.created',
  source: '/olive/hr',
  subject: 'emp_1',
  dataschema: 'https://schemas.example/employee.json',
  data: { employee_id: 'emp_1', name: 'Zoë 日本 🚀' },
  tenantid: 'acme',
  correlationid: 'corr-1',
  causationid: 'cause-1',
  partitionkey: 'emp_1',
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  tracestate: 'a=b',
  extensions: { region: 'eu', note: 'café ☕' },
})

describe.each([
  ['binary', binaryCodec()],
  ['structured', structuredCodec()],
])('codec - %s', (_name, codec) => {
  it('codec - round trips every attribute and unicode', () => {
    expect(codec.decode(codec.encode(full))).toEqual(full)
  })

  it('codec - round trips binary data byte for byte', () => {
    const bytes = new Uint8Array([0, 1, 2, 254, 255, 10, 13])
    const event = createEvent({ type: 'blob', source: 's', data: bytes })
    const decoded = codec.decode(codec.encode(event))
    expect(decoded.datacontenttype).toBe('application/octet-stream')
    expect(Buffer.from(decoded.data as Uint8Array)).toEqual(Buffer.from(bytes))
  })

  it('codec - round trips text data and events without data', () => {
    const text = createEvent({
      type: 't',
      source: 's',
      datacontenttype: 'text/plain',
      data: 'hello ✓',
    })
    expect(codec.decode(codec.encode(text))).toEqual(text)
    const empty = createEvent({ type: 'ping', source: 's' })
    expect(codec.decode(codec.encode(empty))).toEqual(empty)
  })

  it('codec - a JSON body comes with its text; the bytes are that text in UTF-8', () => {
    const encoded = codec.encode(full)
    expect(typeof encoded.text).toBe('string')
    expect(Buffer.from(encoded.body).toString('utf8')).toBe(encoded.text)
    expect(encoded.body).toBe(encoded.body) // encoded once, then kept
    const bytes = codec.encode(createEvent({ type: 't', source: 's', data: new Uint8Array([1]) }))
    if (codec.name === 'binary') expect(bytes.text).toBeUndefined()
  })

  it('codec - a non-serialisable payload is a ConfigurationError naming data', () => {
    const circular: Record<string, unknown> = {}
    circular.self = circular
    const event = { ...createEvent({ type: 't', source: 's' }), data: circular }
    expect(() => codec.encode(event)).toThrow(ConfigurationError)
    for (const data of [circular, { n: 10n }]) {
      let thrown: unknown
      try {
        codec.encode({ ...event, data })
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(ConfigurationError)
      expect((thrown as ConfigurationError).field).toBe('data')
    }
  })
})

describe('codec - decoding foreign and broken input', () => {
  it('codec - missing required attributes is a DecodeError', () => {
    const codec = binaryCodec()
    const { headers, body } = codec.encode(full)
    for (const name of ['ce_id', 'ce_source', 'ce_type', 'ce_specversion']) {
      const broken = { ...headers }
      delete broken[name]
      expect(() => codec.decode({ headers: broken, body })).toThrow(DecodeError)
    }
  })

  it('codec - structured messages missing a required attribute are a DecodeError', () => {
    const codec = structuredCodec()
    const { headers, body } = codec.encode(full)
    const document = JSON.parse(Buffer.from(body).toString()) as Record<string, unknown>
    for (const name of ['id', 'source', 'type', 'specversion']) {
      const broken = { ...document }
      delete broken[name]
      const message = { headers, body: Buffer.from(JSON.stringify(broken)) }
      expect(() => codec.decode(message)).toThrow(DecodeError)
      expect(() => codec.decode(message)).toThrow(name)
    }
  })

  it('codec - a non-JSON body with a JSON content type is a DecodeError', () => {
    const codec = binaryCodec()
    const { headers } = codec.encode(full)
    expect(() => codec.decode({ headers, body: Buffer.from('{nope') })).toThrow(DecodeError)
    expect(() => structuredCodec().decode({ headers: {}, body: Buffer.from('[1]') })).toThrow(
      DecodeError,
    )
  })

  it('codec - an event without time gets the broker timestamp, else the epoch', () => {
    const stored = Date.parse('2026-03-04T05:06:07.089Z')
    const headers = { ce_specversion: '1.0', ce_id: 't1', ce_source: 'kcat', ce_type: 'demo' }
    const body = Buffer.from('{}')
    expect(binaryCodec().decode({ headers, body, timestamp: stored }).time).toBe(
      '2026-03-04T05:06:07.089Z',
    )
    const document = { specversion: '1.0', id: 't2', source: 'kcat', type: 'demo' }
    const structured = { headers: {}, body: Buffer.from(JSON.stringify(document)) }
    expect(structuredCodec().decode({ ...structured, timestamp: stored }).time).toBe(
      '2026-03-04T05:06:07.089Z',
    )
    // A time the event carries wins; unusable timestamps fall back to the epoch.
    const timed = { headers: { ...headers, ce_time: '2020-01-01T00:00:00Z' }, body }
    expect(binaryCodec().decode({ ...timed, timestamp: stored }).time).toBe('2020-01-01T00:00:00Z')
    for (const timestamp of [undefined, -1, Number.NaN, 9e15])
      expect(binaryCodec().decode({ headers, body, timestamp }).time).toBe(
        '1970-01-01T00:00:00.000Z',
      )
  })

  it('codec - binary decoder accepts structured messages and ce- headers from other producers', () => {
    const structured = structuredCodec().encode(full)
    expect(binaryCodec().decode(structured)).toEqual(full)
    const http = {
      headers: {
        'ce-specversion': '1.0',
        'ce-id': 'x1',
        'ce-source': 'curl',
        'ce-type': 'demo',
        'Content-Type': 'application/json',
      },
      body: Buffer.from('{"a":1}'),
    }
    const decoded = binaryCodec().decode(http)
    expect(decoded).toMatchObject({ id: 'x1', source: 'curl', type: 'demo' })
  })

  it('codec - binary mode puts attributes in ce_ headers and data in the body', () => {
    const { headers, body } = binaryCodec().encode(full)
    expect(headers).toMatchObject({
      ce_id: full.id,
      ce_type: 'employee.created',
      ce_tenantid: 'acme',
      ce_region: 'eu',
    })
    expect(headers['content-type']).toBe('application/json')
    expect(JSON.parse(Buffer.from(body).toString())).toEqual(full.data)
  })
})
