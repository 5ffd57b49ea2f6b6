import type { EventEnvelope } from '@switchyard/core'

/** An event as the store keeps it: the CloudEvents envelope and where it sits. */
export interface RecordedEvent<T = unknown> {
  /** The envelope, as appended or archived (binary data comes back as a `Uint8Array`). */
  event: EventEnvelope<T>
  /** Global position: 1, 2, 3, ... in commit order, over every stream and the archive. */
  position: number
  /** The stream it was appended to; undefined for an event archived from the bus. */
  streamId: string | undefined
  /** Its version in the stream (1 for the first event); undefined for an archived event. */
  streamVersion: number | undefined
  /** The topic it is published to through the outbox, or was archived from. */
  topic: string | undefined
  /** When the store committed it, RFC 3339. */
  recordedAt: string
}

/** An event row as the readers select it (`EVENT_COLUMNS`). */
export interface EventRow {
  position: string | number
  stream_id: string | null
  stream_version: string | number | null
  topic: string | null
  recorded_ms: string | number
  envelope: Record<string, unknown> | string
}

/**
 * The JSON kept in the `envelope` column: the envelope as it is, binary data as `data_base64`
 * (the CloudEvents JSON format's member for it).
 */
export function toStoredJson(event: EventEnvelope): Record<string, unknown> {
  if (!(event.data instanceof Uint8Array)) return event as unknown as Record<string, unknown>
  const { data, ...rest } = event
  return { ...rest, data_base64: Buffer.from(data).toString('base64') }
}

/** The envelope back from its stored JSON. */
export function fromStoredJson<T = unknown>(stored: Record<string, unknown>): EventEnvelope<T> {
  if (typeof stored.data_base64 !== 'string') return stored as unknown as EventEnvelope<T>
  const { data_base64, ...rest } = stored
  return { ...rest, data: new Uint8Array(Buffer.from(data_base64 as string, 'base64')) } as never
}

const int = (value: string | number): number => (typeof value === 'number' ? value : Number(value))

// Rows of one page share their second, and often their millisecond (the events of one append
// share a commit time): formatting the second once per change is several times cheaper than a
// Date and toISOString per row.
let lastSecond = Number.NaN
let secondPrefix = ''

/** Epoch milliseconds as RFC 3339 in UTC, like `new Date(ms).toISOString()`. */
export function isoFromMs(ms: number): string {
  const whole = Math.floor(ms)
  const second = Math.floor(whole / 1000)
  if (second !== lastSecond) {
    const iso = new Date(second * 1000).toISOString()
    // Years outside 0000-9999 have a longer form: format those in full.
    if (iso.length !== 24) return new Date(whole).toISOString()
    secondPrefix = iso.slice(0, 20)
    lastSecond = second
  }
  const milli = whole - second * 1000
  return `${secondPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`
}

/** A row of `EVENT_COLUMNS` as a `RecordedEvent`. */
export function fromRow<T = unknown>(row: EventRow): RecordedEvent<T> {
  const envelope = row.envelope
  const stored = typeof envelope === 'string' ? JSON.parse(envelope) : envelope
  return {
    event: fromStoredJson<T>(stored),
    position: int(row.position),
    streamId: row.stream_id ?? undefined,
    streamVersion: row.stream_version === null ? undefined : int(row.stream_version),
    topic: row.topic ?? undefined,
    recordedAt: isoFromMs(int(row.recorded_ms)),
  }
}
