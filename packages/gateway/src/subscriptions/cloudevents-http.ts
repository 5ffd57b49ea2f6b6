import { binaryCodec, type EventEnvelope, structuredCodec } from '@switchyard/core'
import type { ContentMode } from './definition.js'

const binary = binaryCodec()
const structured = structuredCodec()
// Core's binary codec names attributes as the Kafka binding does (`ce_id`); HTTP uses `ce-id`.
const KAFKA_PREFIX = 'ce_'
/** HTTP names of the Kafka-style attribute headers seen so far (a handful, made once each). */
const httpNames = new Map<string, string>()

function httpName(name: string): string {
  let http = httpNames.get(name)
  if (http === undefined) {
    http = name.startsWith(KAFKA_PREFIX) ? `ce-${name.slice(KAFKA_PREFIX.length)}` : name
    // Extension names come from events: a bound keeps odd ones from growing the map for good.
    if (httpNames.size < 1_000) httpNames.set(name, http)
  }
  return http
}

/** A header value that needs no percent-encoding (no flags: `test` keeps no state). */
const PLAIN = /^[!#-$&-~]*$/

/**
 * Percent-encodes a header value as the CloudEvents HTTP binding asks: space, `"`, `%` and every
 * character outside printable ASCII, as UTF-8 bytes.
 */
export function headerValue(value: string): string {
  // Most values need nothing: a test is cheaper than rebuilding the string.
  if (PLAIN.test(value)) return value
  let out = ''
  for (const ch of value) {
    const code = ch.codePointAt(0)!
    out += code > 0x20 && code < 0x7f && ch !== '"' && ch !== '%' ? ch : encodeURIComponent(ch)
  }
  return out
}

/** A webhook request body and its CloudEvents headers. */
export interface HttpMessage {
  headers: Record<string, string>
  body: Uint8Array
}

/**
 * An event in the CloudEvents HTTP binding: binary mode puts the attributes in `ce-*` headers
 * and the data in the body; structured mode sends the whole event as
 * `application/cloudevents+json`.
 */
export function httpMessage(event: EventEnvelope, mode: ContentMode): HttpMessage {
  if (mode === 'structured') {
    const encoded = structured.encode(event)
    return { headers: { 'content-type': 'application/cloudevents+json' }, body: encoded.body }
  }
  const encoded = binary.encode(event)
  const headers: Record<string, string> = {}
  for (const name in encoded.headers) {
    const value = encoded.headers[name]!
    const http = httpName(name)
    headers[http] = http === name ? value : headerValue(value)
  }
  return { headers, body: encoded.body }
}
