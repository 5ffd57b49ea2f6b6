import { randomUUID } from 'node:crypto'
import type { Codec } from './codec.js'
import type { EventEnvelope } from './envelope.js'
import { DecodeError, type SchemaValidationError, type ValidationIssue } from './errors.js'
import type { InboundMessage, OutboundMessage } from './transport.js'

/** CloudEvents type of the events that carry dead-letter entries. */
export const DEAD_LETTER_TYPE = 'io.switchyard.deadletter'

/** Why and where an event was given up on. Stored as the data of a `io.switchyard.deadletter` event. */
export interface DeadLetterEntry {
  /** The original event as decoded, or `undefined` when it could not be decoded. */
  event: EventEnvelope | undefined
  /** The original message exactly as read: headers, base64 body, key. Replay sends these bytes back. */
  message: { headers: Record<string, string>; body: string; key?: string }
  /** The last error; `issues` lists every failing path of a schema validation error. */
  error: { name: string; message: string; code?: string; issues?: ValidationIssue[] }
  /** Why it was dead-lettered (e.g. `gave up after 3 attempts`). */
  reason: string
  /** Attempts made. */
  attempts: number
  /** Topic the event was read from. */
  topic: string
  /** Group that gave up on it. */
  group: string
  /** When it was dead-lettered (ISO). */
  deadLetteredAt: string
  /** Broker position of the original message, when known. */
  position?: string
}

/** A dead-letter entry as listed, with the id of the dead-letter event that holds it. */
export interface DeadLetterRecord extends DeadLetterEntry {
  /** Id of the dead-letter event (not the original's). */
  id: string
}

/** Builds the entry for a message a subscription gives up on. */
export function deadLetterEntry(input: {
  message: InboundMessage
  event: EventEnvelope | undefined
  codec: Codec
  error: Error
  reason: string
  attempts: number
  group: string
}): DeadLetterEntry {
  const { message } = input
  let headers = message.headers
  let body = message.body
  if (message.event !== undefined && body.byteLength === 0) {
    // Pass-by-reference transports carry no bytes: encode so the entry is complete.
    ;({ headers, body } = input.codec.encode(message.event))
  }
  const error: DeadLetterEntry['error'] = { name: input.error.name, message: input.error.message }
  const code = (input.error as { code?: unknown }).code
  if (typeof code === 'string') error.code = code
  // Duck-typed: a second copy of core in node_modules still carries its issues across.
  const issues = (input.error as Partial<SchemaValidationError>).issues
  if (Array.isArray(issues)) error.issues = [...issues]
  const entry: DeadLetterEntry = {
    event: jsonSafe(input.event),
    message: { headers: { ...headers }, body: Buffer.from(body).toString('base64') },
    error,
    reason: input.reason,
    attempts: input.attempts,
    topic: message.topic,
    group: input.group,
    deadLetteredAt: new Date().toISOString(),
  }
  if (message.key !== undefined) entry.message.key = message.key
  if (message.position !== undefined) entry.position = message.position
  return entry
}

function jsonSafe(event: EventEnvelope | undefined): EventEnvelope | undefined {
  if (event === undefined || !(event.data instanceof Uint8Array)) return event
  // Binary data is kept byte-exact in `message.body`; JSON would mangle it here.
  const { data: _binary, ...rest } = event
  return rest as EventEnvelope
}

/**
 * The `io.switchyard.deadletter` event that carries an entry: its subject is the original
 * event's id, and it keeps the original's correlation, tenant and partition key, so it lands in
 * the same partition and can be found by the same queries.
 */
export function deadLetterEvent(
  entry: DeadLetterEntry,
  source: string,
  key: string | undefined,
): EventEnvelope {
  const record: EventEnvelope = {
    specversion: '1.0',
    id: randomUUID(),
    source,
    type: DEAD_LETTER_TYPE,
    time: entry.deadLetteredAt,
    data: entry,
  }
  const event = entry.event
  if (event?.id !== undefined) record.subject = event.id
  if (event?.correlationid !== undefined) record.correlationid = event.correlationid
  if (event?.tenantid !== undefined) record.tenantid = event.tenantid
  if (key !== undefined) record.partitionkey = key
  return record
}

/** Reads the entry out of a dead-letter event. @throws {DecodeError} if it is not one. */
export function readDeadLetter(event: EventEnvelope): DeadLetterRecord {
  if (event.type !== DEAD_LETTER_TYPE || event.data === null || typeof event.data !== 'object') {
    throw new DecodeError(`Event ${event.id} of type "${event.type}" is not a dead-letter entry`)
  }
  return { ...(event.data as DeadLetterEntry), id: event.id }
}

/**
 * The original message of an entry, ready to publish to its topic again: the same bytes and
 * event id inside, but a fresh transport message id, so brokers that de-duplicate on it (NATS
 * `Nats-Msg-Id`) do not drop the replay as a copy of the first publish.
 */
export function originalMessage(entry: DeadLetterEntry): OutboundMessage {
  const headers = { ...entry.message.headers }
  const body = new Uint8Array(Buffer.from(entry.message.body, 'base64'))
  return { id: `replay-${randomUUID()}`, key: entry.message.key, headers, body }
}
