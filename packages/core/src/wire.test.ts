import { describe, expect, it } from 'vitest'
import { binaryCodec, structuredCodec } from './codec.js'
import { createEvent, isRfc3339 } from './envelope.js'
import { ConfigurationError, DecodeError, HandlerError, toError } from './errors.js'

const enc = (s: string) => new Uint8Array(Buffer.from(s))
const attrs = { ce_specversion: '1.0', ce_id: 'e1', ce_source: '/x', ce_type: 't' }

describe('times (RFC 3339, both ways)', () => {
  it('time - impossible dates are refused by createEvent', () => {
    for (const time of ['2023-02-30T00:00:00Z', '2024-13-45T25:61:61Z', '2023-04-31T10:00:00Z']) {
      expect(() => createEvent({ type: 't', source: 's', time })).toThrow(ConfigurationError)
    }
    expect(() =>
      createEvent({ type: 't', source: 's', time: '2024-02-29T23:59:60.5+14:00' }),
    ).not.toThrow()
    expect(isRfc3339('2023-02-29T00:00:00Z')).toBe(false)
    expect(isRfc3339('2000-02-29T00:00:00z')).toBe(true)
    expect(isRfc3339('2024-01-01T00:00:00+24:00')).toBe(false)
  })

  it('time - a message whose time is not a real RFC 3339 time does not decode', () => {
    for (const ce_time of ['not-a-time', '2023-02-30T00:00:00Z']) {
      const message = { headers: { ...attrs, ce_time }, body: enc('') }
      expect(() => binaryCodec().decode(message)).toThrow(DecodeError)
      expect(() => binaryCodec().decode(message)).toThrow(/not an RFC 3339 timestamp/)
    }
    const structured = {
      headers: { 'content-type': 'application/cloudevents+json' },
      body: enc(JSON.stringify({ specversion: '1.0', id: 'e', source: '/x', type: 't', time: 5 })),
    }
    expect(() => structuredCodec().decode(structured)).toThrow(DecodeError)
  })
})

describe('bindings', () => {
  it('ce-datacontenttype decides how the data is read when there is no content-type', () => {
    const message = {
      headers: {
        'ce-specversion': '1.0',
        'ce-id': 'e1',
        'ce-source': '/x',
        'ce-type': 't',
        'ce-datacontenttype': 'text/plain',
      },
      body: enc('hi'),
    }
    const event = binaryCodec().decode(message)
    expect(event.data).toBe('hi')
    expect(event.datacontenttype).toBe('text/plain')
  })

  it('Content-Type in any case: structured mode is found, binary data read', () => {
    const body = JSON.stringify({
      specversion: '1.0',
      id: 'e',
      source: '/x',
      type: 't',
      data: { a: 1 },
    })
    const structured = {
      headers: { 'Content-Type': 'application/cloudevents+json' },
      body: enc(body),
    }
    expect(binaryCodec().decode(structured).data).toEqual({ a: 1 })
    expect(structuredCodec().decode(structured).data).toEqual({ a: 1 })
    const binary = { headers: { ...attrs, 'Content-Type': 'text/plain' }, body: enc('plain') }
    expect(binaryCodec().decode(binary).data).toBe('plain')
  })

  it('ce- header values are percent-decoded (HTTP and NATS bindings); ce_ values are taken as written', () => {
    const message = {
      headers: {
        'ce-specversion': '1.0',
        'ce-id': 'e1',
        'ce-source': '/x',
        'ce-type': 't',
        'ce-subject': 'Euro%20%E2%82%AC%20%F0%9F%98%80',
        'ce-note': '100%25%20%22sure%22',
        'ce-broken': '%E2%82',
      },
      body: enc(''),
    }
    const event = binaryCodec().decode(message)
    expect(event.subject).toBe('Euro € 😀')
    expect(event.extensions).toEqual({ note: '100% "sure"', broken: '%E2%82' })
    const kafka = binaryCodec().decode({
      headers: { ...attrs, ce_subject: 'a%20b' },
      body: enc(''),
    })
    expect(kafka.subject).toBe('a%20b')
  })

  it('an attempt extension survives the round trip in both modes', () => {
    const event = createEvent({
      type: 't',
      source: 's',
      extensions: { attempt: '2', retries: '1' },
    })
    for (const codec of [binaryCodec(), structuredCodec()]) {
      expect(codec.decode(codec.encode(event)).extensions).toEqual({ attempt: '2', retries: '1' })
    }
  })
})

describe('toError', () => {
  it('never throws, and describes what it can', () => {
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    const hostile = {
      toString() {
        throw new Error('no')
      },
    }
    const circular: Record<string, unknown> = { name: 'loop' }
    circular.self = circular
    const errors = [proxy, hostile, circular, Symbol('s'), 42n].map((value) => toError(value))
    for (const error of errors) expect(error).toBeInstanceOf(HandlerError)
    expect(errors[2]!.message).toContain("name: 'loop'")
    expect(errors[2]!.message).not.toContain('[object Object]')
    const badMessage = new Error('x')
    Object.defineProperty(badMessage, 'message', {
      get() {
        throw new Error('no')
      },
    })
    expect(toError(badMessage)).toBeInstanceOf(HandlerError)
  })
})
