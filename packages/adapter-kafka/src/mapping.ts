import type { OutboundMessage } from '@switchyard/core/transport'
import type { RecordIn, RecordOut } from './client.js'

// Core's binary codec already writes CloudEvents attributes as `ce_*` headers and the data as
// the body, which is the CloudEvents Kafka protocol binding; this file only moves bytes.

const EMPTY = new Uint8Array(0)

/**
 * The Kafka record for an outbound message. The record key orders and partitions: the
 * envelope's `partitionkey` (core's one rule), else none (the transport spreads those round
 * robin over the partitions).
 */
export function toRecord(message: OutboundMessage): RecordOut {
  const key = message.key ?? null
  // JSON text goes as it is: kafkajs writes a string value straight into the request, so the
  // bytes are made once, there (the transport declares `textBodies`).
  if (message.text !== undefined) return { key, value: message.text, headers: message.headers }
  const body = message.body
  // No data: the Kafka binding's record without a value (null), not an empty one. The codec
  // tells it by an empty body with no content type (empty data of a given type keeps its bytes).
  if (body.byteLength === 0 && !hasContentType(message.headers))
    return { key, value: null, headers: message.headers }
  const value = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  return { key, value, headers: message.headers }
}

function hasContentType(headers: Record<string, string>): boolean {
  for (const name in headers) if (name.toLowerCase() === 'content-type') return true
  return false
}

/** Bytes a record adds to a produce request (a close estimate, used to size batches). */
export function recordSize(record: RecordOut): number {
  const value = record.value
  let size = 24 + (typeof value === 'string' ? Buffer.byteLength(value) : (value?.byteLength ?? 0))
  if (record.key !== null)
    size += typeof record.key === 'string' ? Buffer.byteLength(record.key) : record.key.byteLength
  for (const name in record.headers)
    size += 8 + name.length + Buffer.byteLength(record.headers[name]!)
  return size
}

/** Headers of a fetched record as strings (UTF-8); a repeated header keeps its last value. */
export function readHeaders(record: RecordIn): Record<string, string> {
  const headers: Record<string, string> = {}
  const raw = record.headers
  if (raw === undefined) return headers
  for (const name in raw) {
    const value = raw[name]
    // kafkajs hands out Buffers; strings and repeated headers (arrays) are the rare cases.
    if (value instanceof Uint8Array) headers[name] = value.toString('utf8')
    else if (typeof value === 'string') headers[name] = value
    else if (Array.isArray(value) && value.length > 0)
      headers[name] = value[value.length - 1]!.toString('utf8')
  }
  return headers
}

/**
 * The record value as kafkajs hands it (a Buffer, no copy; core decodes JSON from a Buffer with
 * Node's fastest UTF-8 decoder); a null value (an event without data) reads as empty, which core
 * decodes, with no content type, as no data.
 */
export function readBody(record: RecordIn): Uint8Array {
  return record.value ?? EMPTY
}

/** The record key as text, when it has one. */
export function readKey(record: RecordIn): string | undefined {
  return record.key === null || record.key.byteLength === 0
    ? undefined
    : record.key.toString('utf8')
}

/**
 * The record's timestamp in milliseconds since the epoch (producer's create time or the
 * broker's append time, per the topic's `message.timestamp.type`); undefined when it has none.
 */
export function readTimestamp(record: RecordIn): number | undefined {
  const ms = Number(record.timestamp)
  return ms > 0 ? ms : undefined
}

/** Broker position as `partition:offset`, for logs and dead-letter entries. */
export function position(partition: number, offset: string): string {
  return `${partition}:${offset}`
}
