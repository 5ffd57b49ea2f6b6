import { randomUUID } from 'node:crypto'
import { ConfigurationError } from './errors.js'

/**
 * The one event envelope: CloudEvents 1.0 context attributes plus Switchyard's extension
 * attributes. Every adapter carries it unchanged; every seed system's event maps onto it.
 */
export interface EventEnvelope<T = unknown> {
  /** CloudEvents spec version; always `1.0`. */
  specversion: '1.0'
  /** Unique id of the event; producers never reuse it, consumers may dedupe on it. */
  id: string
  /** URI-reference of the producer, e.g. `hr-service` or `/olive/hr`. */
  source: string
  /** Reverse-DNS or dotted event type, e.g. `employee.created`. */
  type: string
  /** RFC 3339 time the event happened. */
  time: string
  /** What the event is about inside the source, e.g. an employee id. */
  subject?: string
  /** Media type of `data`; `application/json` when omitted and data is not binary. */
  datacontenttype?: string
  /** URI of the schema `data` adheres to. */
  dataschema?: string
  /** The payload. JSON value, string for `text/*`, or `Uint8Array` for binary. */
  data?: T
  /** Tenant the event belongs to (multi-tenant services). */
  tenantid?: string
  /** Id shared by every event of one business flow. */
  correlationid?: string
  /** Id of the event that caused this one. */
  causationid?: string
  /** Key that orders and partitions: same key, same order. */
  partitionkey?: string
  /** W3C trace context `traceparent`. */
  traceparent?: string
  /** W3C trace context `tracestate`. */
  tracestate?: string
  /** Further CloudEvents extension attributes (names: lower-case a-z0-9, at most 20 characters). */
  extensions?: Record<string, string>
}

/** What a producer passes: `type` is required; id, time, source and specversion are filled in. */
export type EventInput<T = unknown> = Omit<
  EventEnvelope<T>,
  'specversion' | 'id' | 'time' | 'source'
> &
  Partial<Pick<EventEnvelope<T>, 'specversion' | 'id' | 'time' | 'source'>>

/** Attribute names defined by CloudEvents 1.0 itself. */
export const CORE_ATTRIBUTES = [
  'specversion',
  'id',
  'source',
  'type',
  'time',
  'subject',
  'datacontenttype',
  'dataschema',
] as const

/** Extension attributes Switchyard knows by name. */
export const KNOWN_EXTENSIONS = [
  'tenantid',
  'correlationid',
  'causationid',
  'partitionkey',
  'traceparent',
  'tracestate',
] as const

const KNOWN_KEYS = new Set<string>([...CORE_ATTRIBUTES, ...KNOWN_EXTENSIONS, 'data', 'extensions'])
const EXTENSION_NAME = /^[a-z0-9]{1,20}$/
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/
/** The last time found valid: events of one burst share it (times are formatted once per ms). */
let lastValidTime = ''

/**
 * True for an RFC 3339 `date-time` that names a real instant: the shape, then the calendar
 * (month 1-12, the month's days with leap years, hour 0-23, minute 0-59, second 0-59 or a leap
 * second 60, offset up to 23:59). `2023-02-30T00:00:00Z` is not one.
 */
export function isRfc3339(time: string): boolean {
  if (time === lastValidTime) return true
  const m = RFC3339.exec(time)
  if (m === null) return false
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number)
  const valid =
    month! >= 1 &&
    month! <= 12 &&
    day! >= 1 &&
    day! <= daysIn(year!, month!) &&
    hour! <= 23 &&
    minute! <= 59 &&
    second! <= 60 &&
    (m[7] === undefined || (Number(m[7]) <= 23 && Number(m[8]) <= 59))
  if (valid) lastValidTime = time
  return valid
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

/** Two lower-case hex digits per byte value. */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))
/** Ids one prefix gives before a new one is drawn (28 bits of block number, 16 of counter). */
const IDS_PER_PREFIX = 0xf000_0000 * 0x1_0000
let idPrefix = ''
let idCount = IDS_PER_PREFIX
let idBlock = ''

/**
 * A new event id in UUID form: a random prefix drawn once per process (74 random bits of a v4
 * UUID, its version and variant kept) and a counter in the last 12 hex digits. CloudEvents asks
 * only that `source` + `id` be unique; random bits per process and a counter within it give
 * that, at a small fraction of `randomUUID()`'s cost (which builds each id from 16 hex pieces).
 * Ids are not secrets: a consumer can tell two ids of one process apart by their order.
 */
function nextId(): string {
  if (idCount >= IDS_PER_PREFIX) {
    idPrefix = randomUUID().slice(0, 24)
    idCount = 0
  }
  const n = idCount++
  const low = n % 0x1_0000
  // The leading digits change once in 65 536 ids: format them then, and only two bytes per id.
  if (low === 0) idBlock = idPrefix + (0x1000_0000 + Math.floor(n / 0x1_0000)).toString(16)
  return idBlock + HEX[low >>> 8]! + HEX[low & 0xff]!
}

let lastMs = 0
let lastIso = ''

/** The current time in ISO form; formatted once per millisecond, since formatting is costly. */
function nowIso(): string {
  const now = Date.now()
  if (now !== lastMs) {
    lastMs = now
    lastIso = new Date(now).toISOString()
  }
  return lastIso
}

/**
 * Builds a complete envelope from an input, generating `id` (UUID-shaped, unique per process,
 * see `nextId`) and `time` (now, ISO).
 * @throws {ConfigurationError} when a field is missing or malformed; `field` names it.
 * @example
 * const event = createEvent({ type: 'employee.created', source: 'hr', data: { id: 'e1' } })
 */
export function createEvent<T>(
  input: EventInput<T>,
  defaults: { source?: string } = {},
): EventEnvelope<T> {
  if (input === null || typeof input !== 'object') {
    throw new ConfigurationError('An event must be an object with at least a "type"', {
      field: 'event',
    })
  }
  // A literal with the required attributes first keeps one object shape for every event, and
  // copying the rest by hand avoids V8's slow path for spread-plus-properties. An event with
  // data gets `data` and its content type in the literal too: added afterwards, they cost a
  // second allocation (the out-of-object property store) per event.
  const data = input.data
  const event = (
    data === undefined
      ? {
          specversion: input.specversion ?? '1.0',
          id: input.id ?? nextId(),
          source: input.source ?? defaults.source,
          type: input.type,
          time: input.time ?? nowIso(),
        }
      : {
          specversion: input.specversion ?? '1.0',
          id: input.id ?? nextId(),
          source: input.source ?? defaults.source,
          type: input.type,
          time: input.time ?? nowIso(),
          data,
          // Say what the data is, so the envelope a consumer decodes equals the one published.
          datacontenttype:
            input.datacontenttype ??
            (data instanceof Uint8Array ? 'application/octet-stream' : 'application/json'),
        }
  ) as EventEnvelope<T>
  const target = event as unknown as Record<string, unknown>
  const source = input as Record<string, unknown>
  // One pass over the input both copies and checks what the caller supplied.
  for (const key in source) {
    checkAttribute(key, source[key])
    if (target[key] === undefined) target[key] = source[key]
  }
  // A generated id, specversion or time is well-formed by construction: only supplied ones
  // need their checks (in checkRequired's order, so the same field is named first).
  requireString(event, 'type')
  requireString(event, 'source')
  if (input.id !== undefined || input.specversion !== undefined) checkRequired(event)
  if (input.time !== undefined) checkTime(event.time)
  if (event.extensions !== undefined) checkExtensions(event.extensions)
  return event
}

/**
 * Checks an envelope against CloudEvents 1.0 and Switchyard's rules.
 * @throws {ConfigurationError} naming the first offending field.
 */
export function assertValidEvent(event: EventEnvelope): void {
  checkRequired(event)
  checkTime(event.time)
  for (const key in event) checkAttribute(key, event[key as keyof EventEnvelope])
  if (event.extensions !== undefined) checkExtensions(event.extensions)
}

function checkRequired(event: EventEnvelope): void {
  requireString(event, 'type')
  requireString(event, 'source')
  requireString(event, 'id')
  if (event.specversion !== '1.0') {
    throw new ConfigurationError(
      `event.specversion must be "1.0", got ${JSON.stringify(event.specversion)}`,
      { field: 'specversion' },
    )
  }
}

function checkTime(time: unknown): void {
  if (typeof time !== 'string' || !isRfc3339(time)) {
    throw new ConfigurationError(
      `event.time must be an RFC 3339 timestamp of a real date and time, got ${JSON.stringify(time)}`,
      { field: 'time' },
    )
  }
}

/** 1 for an attribute whose value must be a string, 2 for another known key, 0 for unknown. */
function attributeKind(key: string): 0 | 1 | 2 {
  // A switch over the names: cheaper per event than two Set lookups.
  switch (key) {
    case 'type':
    case 'data':
    case 'source':
    case 'id':
    case 'time':
    case 'specversion':
    case 'extensions':
      return 2
    case 'subject':
    case 'datacontenttype':
    case 'dataschema':
    case 'tenantid':
    case 'correlationid':
    case 'causationid':
    case 'partitionkey':
    case 'traceparent':
    case 'tracestate':
      return 1
    default:
      return 0
  }
}

function checkAttribute(key: string, value: unknown): void {
  const kind = attributeKind(key)
  if (kind === 1) {
    if (value !== undefined && typeof value !== 'string') {
      throw new ConfigurationError(`event.${key} must be a string`, { field: key })
    }
  } else if (kind === 0) {
    throw new ConfigurationError(
      `Unknown event attribute "${key}": put custom attributes under "extensions"`,
      { field: key },
    )
  }
}

function checkExtensions(extensions: Record<string, string>): void {
  if (typeof extensions !== 'object' || extensions === null || Array.isArray(extensions)) {
    throw new ConfigurationError('event.extensions must be an object of strings', {
      field: 'extensions',
    })
  }
  for (const name in extensions) {
    const value = extensions[name]
    if (!EXTENSION_NAME.test(name) || KNOWN_KEYS.has(name)) {
      throw new ConfigurationError(
        `Extension name "${name}" must be 1-20 lower-case letters or digits and not a standard attribute`,
        { field: `extensions.${name}` },
      )
    }
    if (typeof value !== 'string') {
      throw new ConfigurationError(`Extension "${name}" must be a string`, {
        field: `extensions.${name}`,
      })
    }
  }
}

function requireString(event: EventEnvelope, key: 'type' | 'source' | 'id'): void {
  const value = event[key]
  if (typeof value !== 'string' || value.length === 0) {
    throw new ConfigurationError(`event.${key} is required and must be a non-empty string`, {
      field: key,
    })
  }
}
