import { CORE_ATTRIBUTES, type EventEnvelope, isRfc3339, KNOWN_EXTENSIONS } from './envelope.js'
import { ConfigurationError, DecodeError } from './errors.js'

/** An event on the wire: string headers and a byte body. */
export interface EncodedMessage {
  /** Transport headers (CloudEvents attributes in binary mode). */
  headers: Record<string, string>
  /** The body: event data in binary mode, the whole event in structured mode. */
  body: Uint8Array
  /**
   * The body as the string it is the UTF-8 encoding of, when the codec made it from text
   * (JSON). Transports that send strings may send this instead of `body`.
   */
  readonly text?: string
  /**
   * When the broker stored the message, in milliseconds since the epoch, if the transport knows.
   * Decoding gives an event without a `time` attribute this time.
   */
  readonly timestamp?: number | undefined
}

/** An encoding that may stop short of bytes: a body made from text can be `text` alone. */
export type EncodedParts =
  | EncodedMessage
  | { headers: Record<string, string>; text: string; body?: undefined }

type PartsEncoder = (event: EventEnvelope) => EncodedParts

// The built-in codecs' encoders that leave text as text, for the bus (see `partsEncoder`).
const partEncoders = new WeakMap<Codec, PartsEncoder>()

/** A codec whose `encode` finishes `parts` with the bytes of any text. */
function codecOf(name: string, parts: PartsEncoder, decode: Codec['decode']): Codec {
  const codec: Codec = {
    name,
    encode(event) {
      const encoded = parts(event)
      if (encoded.body !== undefined) return encoded
      const { headers, text } = encoded
      return { headers, body: Buffer.from(text, 'utf8'), text }
    },
    decode,
  }
  partEncoders.set(codec, parts)
  return codec
}

/**
 * `codec`'s encoder for a transport that sends text: the built-in codecs leave a body made from
 * text unencoded (`body` undefined); any other codec encodes as usual.
 */
export function partsEncoder(codec: Codec): PartsEncoder {
  return partEncoders.get(codec) ?? ((event) => codec.encode(event))
}

/** Turns envelopes into wire messages and back. */
export interface Codec {
  /** `binary` or `structured`, or a custom name. */
  readonly name: string
  /**
   * @throws {ConfigurationError} when `data` cannot be serialised (field `data`).
   */
  encode(event: EventEnvelope): EncodedMessage
  /**
   * @throws {DecodeError} when attributes are missing or the body does not parse.
   */
  decode(message: EncodedMessage): EventEnvelope
}

const STRUCTURED_TYPE = 'application/cloudevents+json'
const EMPTY = new Uint8Array(0)
const textDecoder = new TextDecoder('utf-8', { fatal: true })
const ATTRIBUTES = [...CORE_ATTRIBUTES.filter((a) => a !== 'datacontenttype'), ...KNOWN_EXTENSIONS]

/** True for `application/json`, `text/json` and any `+json` media type. */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return true
  const base = contentType.split(';', 1)[0]!.trim().toLowerCase()
  return base === 'application/json' || base === 'text/json' || base.endsWith('+json')
}

/** The data as bytes (binary data, none) or as text to encode (JSON, plain strings). */
function encodeData(event: EventEnvelope): {
  body: Uint8Array | string
  contentType: string | undefined
} {
  const data = event.data
  if (data === undefined) return { body: EMPTY, contentType: event.datacontenttype }
  if (data instanceof Uint8Array) {
    return { body: data, contentType: event.datacontenttype ?? 'application/octet-stream' }
  }
  if (typeof data === 'string' && !isJsonContentType(event.datacontenttype)) {
    return { body: data, contentType: event.datacontenttype }
  }
  return { body: stringifyData(data), contentType: event.datacontenttype ?? 'application/json' }
}

function stringifyData(data: unknown): string {
  let text: string | undefined
  try {
    text = JSON.stringify(data)
  } catch (cause) {
    throw new ConfigurationError(
      `event.data cannot be serialised to JSON: ${(cause as Error).message}`,
      { field: 'data', cause },
    )
  }
  if (text === undefined) {
    throw new ConfigurationError(`event.data of type ${typeof data} cannot be serialised to JSON`, {
      field: 'data',
    })
  }
  return text
}

function decodeData(body: Uint8Array, contentType: string | undefined): unknown {
  if (body.byteLength === 0 && contentType === undefined) return undefined
  if (contentType === 'application/json' || isJsonContentType(contentType)) {
    try {
      // Buffer's decoder is the fastest; invalid UTF-8 cannot hide there, JSON.parse then fails.
      return JSON.parse(Buffer.isBuffer(body) ? body.toString('utf8') : textDecoder.decode(body))
    } catch (cause) {
      throw new DecodeError(
        `Event data is not valid JSON (content type ${contentType ?? 'none'})`,
        { cause },
      )
    }
  }
  const base = contentType!.split(';', 1)[0]!.trim().toLowerCase()
  if (base.startsWith('text/')) {
    try {
      return textDecoder.decode(body)
    } catch (cause) {
      throw new DecodeError(`Event data is not valid UTF-8 text (${base})`, { cause })
    }
  }
  return body
}

/** Checks the required attributes; `message` gives the broker's time to an event without one. */
function finish(event: Record<string, unknown>, message: EncodedMessage): EventEnvelope {
  for (let i = 0; i < REQUIRED_ATTRIBUTES.length; i++) {
    const name = REQUIRED_ATTRIBUTES[i]!
    const value = event[name]
    if (typeof value !== 'string' || value.length === 0) {
      throw new DecodeError(`Message is missing the required CloudEvents attribute "${name}"`)
    }
  }
  if (event.specversion !== '1.0') {
    throw new DecodeError(
      `Unsupported CloudEvents specversion ${JSON.stringify(event.specversion)}`,
    )
  }
  // `time` is optional in CloudEvents; the broker's own time says when the event was stored.
  // Read only then: on some transports `timestamp` is a getter that parses a string.
  if (event.time === undefined) event.time = new Date(brokerTime(message.timestamp)).toISOString()
  else if (typeof event.time !== 'string' || !isRfc3339(event.time)) {
    throw new DecodeError(
      `Event time ${JSON.stringify(event.time)} is not an RFC 3339 timestamp of a real date and time`,
    )
  }
  return event as unknown as EventEnvelope
}

/**
 * CloudEvents binary content mode: attributes as prefixed headers, data as the body.
 * The default codec of every transport that has headers.
 */
export function binaryCodec(): Codec {
  // Kafka binding header names; adapters for other bindings (NATS, HTTP `ce-`) map them in
  // their own mapping.ts, and decoding accepts `ce-` too.
  const prefix = 'ce_'
  const names = ATTRIBUTES.map((a) => [a, prefix + a] as const)
  return codecOf(
    'binary',
    (event) => {
      const { body, contentType } = encodeData(event)
      const headers: Record<string, string> = {}
      for (const [attr, header] of names) {
        const value = event[attr]
        if (value !== undefined) headers[header] = value
      }
      if (contentType !== undefined) headers['content-type'] = contentType
      if (event.extensions !== undefined) {
        for (const name in event.extensions) headers[prefix + name] = event.extensions[name]!
      }
      return typeof body === 'string' ? { headers, text: body } : { headers, body }
    },
    (message) => {
      const contentType = contentTypeOf(message.headers)
      if (isStructured(contentType)) return decodeStructured(message)
      return decodeBinary(message, contentType)
    },
  )
}

const KNOWN_ATTRIBUTE_SET = new Set<string>([...ATTRIBUTES, 'datacontenttype'])

/** True for `application/cloudevents+json` in any case, with parameters or without. */
function isStructured(contentType: string | undefined): boolean {
  // The common answer without making a lowercase copy of the header per message.
  if (contentType === undefined || contentType === 'application/json') return false
  return contentType.toLowerCase().startsWith(STRUCTURED_TYPE)
}

/** Attribute a header names, for the headers this codec writes and their `ce-` forms. */
const HEADER_ATTRIBUTES = new Map<string, string>(
  [...KNOWN_ATTRIBUTE_SET].flatMap((a) => [
    [`ce_${a}`, a],
    [`ce-${a}`, a],
  ]),
)

/** Read before the header loop, so decoded events share one object shape. */
const REQUIRED_HEADERS = new Set(['ce_specversion', 'ce_id', 'ce_source', 'ce_type', 'ce_time'])

const REQUIRED_ATTRIBUTES = ['id', 'source', 'type'] as const

/** True for a header named `ce_*` or `ce-*` in any case, without allocating. */
function isAttributeHeader(header: string): boolean {
  if (header.length < 4) return false
  const c = header.charCodeAt(0) | 0x20
  const e = header.charCodeAt(1) | 0x20
  const sep = header.charCodeAt(2)
  return c === 99 && e === 101 && (sep === 95 || sep === 45)
}

/**
 * A header's attribute value: `ce-` headers (the HTTP and NATS bindings) percent-encode theirs,
 * `ce_` headers (the Kafka binding) carry it as it is. A malformed escape is kept as written.
 */
function headerValue(header: string, value: string): string {
  if (header.charCodeAt(2) !== 45 || !value.includes('%')) return value
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

/** Largest time a JavaScript `Date` holds. */
const MAX_DATE_MS = 8.64e15

/** The broker's timestamp when it is a usable date, else the epoch. */
function brokerTime(timestamp: number | undefined): number {
  return timestamp !== undefined && timestamp > 0 && timestamp <= MAX_DATE_MS ? timestamp : 0
}

/** Binary mode; `header` is the message's `content-type` header, already looked up by the caller. */
function decodeBinary(message: EncodedMessage, header: string | undefined): EventEnvelope {
  const headers = message.headers
  // Required attributes first, so decoded events share one object shape.
  const event: Record<string, unknown> = {
    specversion: headers.ce_specversion,
    id: headers.ce_id,
    source: headers.ce_source,
    type: headers.ce_type,
    time: headers.ce_time,
  }
  let extensions: Record<string, string> | undefined
  for (const header in headers) {
    if (REQUIRED_HEADERS.has(header)) continue
    const known = HEADER_ATTRIBUTES.get(header)
    if (known !== undefined) {
      event[known] = headerValue(header, headers[header]!)
      continue
    }
    if (!isAttributeHeader(header)) continue
    let name = header.slice(3)
    if (name !== name.toLowerCase()) name = name.toLowerCase()
    const value = headerValue(header, headers[header]!)
    if (KNOWN_ATTRIBUTE_SET.has(name)) event[name] = value
    else {
      extensions ??= {}
      extensions[name] = value
    }
  }
  // `content-type` (the Kafka binding and HTTP), else the `ce-datacontenttype` attribute.
  const contentType = header ?? (event.datacontenttype as string | undefined)
  if (contentType !== undefined) event.datacontenttype = contentType
  if (extensions !== undefined) event.extensions = extensions
  finish(event, message)
  const data = decodeData(message.body, contentType)
  if (data !== undefined) event.data = data
  return event as unknown as EventEnvelope
}

/** The `content-type` header under any spelling of its name (`Content-Type` from HTTP clients). */
function contentTypeOf(headers: Record<string, string>): string | undefined {
  return headers['content-type'] ?? headerIgnoringCase(headers, 'content-type')
}

function headerIgnoringCase(headers: Record<string, string>, name: string): string | undefined {
  for (const header in headers) if (header.toLowerCase() === name) return headers[header]
  return undefined
}

function decodeStructured(message: EncodedMessage): EventEnvelope {
  let parsed: unknown
  try {
    parsed = JSON.parse(textDecoder.decode(message.body))
  } catch (cause) {
    throw new DecodeError('Structured CloudEvent body is not valid JSON', { cause })
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new DecodeError('Structured CloudEvent body must be a JSON object')
  }
  const source = parsed as Record<string, unknown>
  const event: Record<string, unknown> = {}
  let extensions: Record<string, string> | undefined
  for (const key in source) {
    const value = source[key]
    if (key === 'data' || key === 'data_base64') continue
    if (KNOWN_ATTRIBUTE_SET.has(key)) event[key] = value
    else {
      extensions ??= {}
      extensions[key] = String(value)
    }
  }
  if (extensions !== undefined) event.extensions = extensions
  finish(event, message)
  if (typeof source.data_base64 === 'string') {
    event.data = new Uint8Array(Buffer.from(source.data_base64, 'base64'))
  } else if (source.data !== undefined) {
    event.data = source.data
  }
  return event as unknown as EventEnvelope
}

/**
 * CloudEvents structured content mode (`application/cloudevents+json`): the whole event as a
 * JSON body; binary data travels as `data_base64`.
 */
export function structuredCodec(): Codec {
  return codecOf(
    'structured',
    (event) => {
      const out: Record<string, unknown> = {}
      for (const key of [...CORE_ATTRIBUTES, ...KNOWN_EXTENSIONS]) {
        const value = event[key]
        if (value !== undefined) out[key] = value
      }
      if (event.extensions !== undefined) Object.assign(out, event.extensions)
      if (event.data instanceof Uint8Array) {
        out.datacontenttype ??= 'application/octet-stream'
        out.data_base64 = Buffer.from(event.data).toString('base64')
      } else if (event.data !== undefined) {
        if (typeof event.data !== 'string' || isJsonContentType(event.datacontenttype))
          stringifyData(event.data)
        out.data = event.data
      }
      const headers: Record<string, string> = {
        'content-type': `${STRUCTURED_TYPE}; charset=utf-8`,
      }
      return { headers, text: stringifyData(out) }
    },
    (message) => {
      const contentType = contentTypeOf(message.headers)
      if (contentType !== undefined && !isStructured(contentType))
        return decodeBinary(message, contentType)
      return decodeStructured(message)
    },
  )
}

/** Resolves a codec option: a name or a ready codec. */
export function resolveCodec(codec: 'binary' | 'structured' | Codec | undefined): Codec {
  if (codec === undefined || codec === 'binary') return binaryCodec()
  if (codec === 'structured') return structuredCodec()
  if (typeof codec.encode === 'function' && typeof codec.decode === 'function') return codec
  throw new ConfigurationError(
    'codec must be "binary", "structured" or an object with encode/decode',
    {
      field: 'codec',
    },
  )
}
