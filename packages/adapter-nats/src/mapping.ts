import { createHash } from 'node:crypto'
import type { ConsumerConfig } from '@nats-io/jetstream'
import { type MsgHdrs, headers as natsHeaders } from '@nats-io/transport-node'
import { ConfigurationError, type StartAt, startAtTime } from '@switchyard/core/transport'

/** Carries the partition key when the codec did not put it in a header (structured mode). */
export const KEY_HEADER = 'switchyard-key'

const TOKEN = /^[^\s.*>]+$/u

/** True when `subject` is a valid NATS subject; `*` and `>` only when `wildcards`. */
export function isValidSubject(subject: string, wildcards: boolean): boolean {
  const tokens = subject.split('.')
  return tokens.every((t, i) => {
    if (wildcards && (t === '*' || (t === '>' && i === tokens.length - 1))) return true
    return TOKEN.test(t)
  })
}

/**
 * The subjects a topic reads from: its alias (possibly several, possibly wildcards) or the
 * topic itself.
 * @throws {ConfigurationError} for a topic that is not a valid NATS subject.
 */
export function subjectsFor(
  topic: string,
  aliases: Readonly<Record<string, string | readonly string[]>>,
): string[] {
  const alias = Object.hasOwn(aliases, topic) ? aliases[topic] : undefined
  const subjects = alias === undefined ? [topic] : typeof alias === 'string' ? [alias] : [...alias]
  for (const subject of subjects) {
    if (subject.length === 0 || !isValidSubject(subject, true)) {
      throw new ConfigurationError(
        `Topic "${topic}" maps to "${subject}", which is not a NATS subject: ` +
          'use dot-separated non-empty tokens without spaces',
        { field: 'topic' },
      )
    }
  }
  return subjects
}

/**
 * The one subject a topic is published to.
 * @throws {ConfigurationError} when the topic maps to a wildcard or to several subjects.
 */
export function publishSubject(
  topic: string,
  aliases: Readonly<Record<string, string | readonly string[]>>,
): string {
  const subjects = subjectsFor(topic, aliases)
  if (subjects.length !== 1 || !isValidSubject(subjects[0]!, false)) {
    throw new ConfigurationError(
      `Topic "${topic}" maps to ${subjects.join(', ')}: publish to one subject without wildcards`,
      { field: 'topic' },
    )
  }
  return subjects[0]!
}

/** True when every subject `filter` matches is also matched by `pattern`. */
export function covers(pattern: string, filter: string): boolean {
  const p = pattern.split('.')
  const f = filter.split('.')
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return f.length > i
    if (i >= f.length || f[i] === '>') return false
    if (p[i] !== '*' && p[i] !== f[i]) return false
  }
  return p.length === f.length
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8)
}

function clean(text: string, max: number): string {
  return text.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, max)
}

/** Name of the stream created for a subject no stream covers; hashed when characters changed. */
export function autoStreamName(prefix: string, subject: string): string {
  const name = clean(subject, 120)
  return name === subject ? `${prefix}${name}` : `${prefix}${name}_${hash(subject)}`
}

/** Consumer description that records the group a consumer serves (its name is a cleaned form). */
export const GROUP_MARK = 'switchyard group: '

/** Durable consumer name of a group reading some subjects: readable group, unique hash. */
export function consumerName(group: string, subjects: readonly string[]): string {
  return `${clean(group, 80)}_${hash(`${group}\n${subjects.join(',')}`)}`
}

/** Consumer settings that place a new group per `startAt`. */
export function deliverPolicy(startAt: StartAt): Partial<ConsumerConfig> {
  if (startAt === 'latest') return { deliver_policy: 'new' }
  if (startAt === 'earliest') return { deliver_policy: 'all' }
  const time = startAtTime(startAt)
  if (time !== undefined) {
    return { deliver_policy: 'by_start_time', opt_start_time: new Date(time).toISOString() }
  }
  const seq = 'sequence' in startAt ? Number(startAt.sequence) : Number.NaN
  if (!Number.isSafeInteger(seq) || seq < 1) {
    throw new ConfigurationError('startAt.sequence must be a stream sequence of 1 or more', {
      field: 'startAt.sequence',
    })
  }
  return { deliver_policy: 'by_start_sequence', opt_start_seq: seq }
}

// Headers other than attributes (the key, a custom codec's): NATS trims header values and
// cannot hold CR/LF; everything else (UTF-8 included) goes through raw. `%` is escaped too, so
// decoding is unambiguous. Earlier versions wrote `ce_` attribute values this way.
const UNSAFE = /%|\p{Cc}|^\s|\s$/u
const UNSAFE_CHAR = /^(%|\p{Cc})$/u

/** Makes a header value safe for NATS, percent-encoding only what NATS would alter. */
export function encodeHeaderValue(value: string): string {
  if (!UNSAFE.test(value)) return value
  const chars = [...value]
  const last = chars.length - 1
  return chars
    .map((ch, i) => {
      const edge = (i === 0 || i === last) && /\s/u.test(ch)
      return edge || UNSAFE_CHAR.test(ch) ? encodeURIComponent(ch) : ch
    })
    .join('')
}

/** Reverses `encodeHeaderValue`; a value that is not valid percent-encoding is kept as it is. */
export function decodeHeaderValue(value: string): string {
  if (!value.includes('%')) return value
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

// Printable US-ASCII except `"` (and `%`): what the CloudEvents NATS binding lets through raw.
const BINDING_RAW = /^[\x21\x23\x24\x26-\x7E]*$/
const ENCODED_RAW = /^[\x21\x23-\x7E]*$/

/**
 * Percent-encodes a header value as the CloudEvents NATS binding asks (3.1.3.2): space, `"`,
 * `%` and every character outside printable US-ASCII, as upper-case `%XY` of its UTF-8 bytes.
 * `encoded` marks a value in the binding's form already (a `ce-` header read from NATS, sent
 * again by a dead-letter replay): its `%` escapes are kept, anything unsafe is still encoded.
 */
export function bindingEncode(value: string, encoded = false): string {
  if ((encoded ? ENCODED_RAW : BINDING_RAW).test(value)) return value
  let out = ''
  for (const ch of value) {
    const cp = ch.codePointAt(0)!
    if (cp >= 0x21 && cp <= 0x7e && cp !== 0x22 && (cp !== 0x25 || encoded)) out += ch
    else
      for (const byte of Buffer.from(ch, 'utf8'))
        out += `%${byte < 16 ? '0' : ''}${byte.toString(16).toUpperCase()}`
  }
  return out
}

/**
 * A `ce-` header value as received: a double-quoted string (RFC 7230 3.2.6, written by older
 * versions of the binding) is unquoted; the percent-decoding that follows is core's.
 */
export function unquote(value: string): string {
  if (value.length < 2 || value[0] !== '"' || value[value.length - 1] !== '"') return value
  return value.slice(1, -1).replace(/\\(.)/g, '$1')
}

/**
 * NATS headers of an outbound message, in the CloudEvents NATS binding's binary mode: the
 * codec's `ce_` attribute headers (the Kafka binding's names) go out as `ce-` headers, the data's
 * `content-type` as `ce-datacontenttype`, values percent-encoded; a structured-mode message keeps
 * its `content-type`. Plus the key when no attribute carries it; never a `Nats-*` header.
 */
export function toNatsHeaders(headers: Record<string, string>, key: string | undefined): MsgHdrs {
  const h = natsHeaders()
  const binary = headers.ce_specversion !== undefined || headers['ce-specversion'] !== undefined
  for (const name in headers) {
    const lower = name.toLowerCase()
    // `Nats-*` headers are the server's own vocabulary; a replayed dead letter must not steer it.
    if (lower.startsWith('nats-')) continue
    const value = headers[name]!
    if (lower.startsWith('ce_')) h.set(`ce-${name.slice(3)}`, bindingEncode(value))
    else if (lower.startsWith('ce-')) h.set(name, bindingEncode(value, true))
    else if (binary && lower === 'content-type') h.set('ce-datacontenttype', bindingEncode(value))
    else h.set(name, encodeHeaderValue(value))
  }
  if (key !== undefined && headers.ce_partitionkey !== key && headers['ce-partitionkey'] !== key) {
    h.set(KEY_HEADER, encodeHeaderValue(key))
  }
  return h
}

/**
 * Headers of an inbound message, names lower-cased, server and transport headers left out.
 * `ce-` values (the binding's form) reach core still percent-encoded, as core decodes them;
 * `ce_` values (what earlier versions wrote, already in streams) and others are decoded here.
 */
export function fromNatsHeaders(h: MsgHdrs | undefined): {
  headers: Record<string, string>
  key: string | undefined
} {
  const headers: Record<string, string> = {}
  let key: string | undefined
  if (h !== undefined) {
    for (const [name, values] of h) {
      const lower = name.toLowerCase()
      key = inboundHeader(headers, lower, values[0] ?? '') ?? key
    }
  }
  return { headers, key: inboundKey(headers, key) }
}

/**
 * Adds one received header (`lower`: its name lower-cased) to `headers` as `fromNatsHeaders`
 * does; returns the key when it is the key header, which is not added.
 */
export function inboundHeader(
  headers: Record<string, string>,
  lower: string,
  value: string,
): string | undefined {
  if (lower === KEY_HEADER) return decodeHeaderValue(value)
  if (lower.startsWith('nats-')) return undefined
  headers[lower] = lower.startsWith('ce-') ? unquote(value) : decodeHeaderValue(value)
  return undefined
}

/** The key of a received message: its key header's, else its partitionkey attribute's. */
export function inboundKey(
  headers: Record<string, string>,
  key: string | undefined,
): string | undefined {
  if (key !== undefined) return key
  const bound = headers['ce-partitionkey']
  return headers.ce_partitionkey ?? (bound === undefined ? undefined : decodeHeaderValue(bound))
}

/** What the `$JS.ACK...` reply subject of a delivered message tells. */
export interface DeliveryInfo {
  stream: string
  consumer: string
  /** Deliveries of this message to this consumer so far, this one included. */
  delivered: number
  /** Stream sequence. */
  sequence: number
  /** When the stream stored it, in milliseconds since the epoch (undefined if unreadable). */
  storedAt: number | undefined
}

/** Dot positions of the subject `parseAckSubject` reads, reused: no array per delivery. */
const DOTS = new Int32Array(16)

/** Token `i` (from 1) of the subject whose `dots` dots `DOTS` holds. */
function ackToken(subject: string, i: number, dots: number): string {
  return subject.slice(DOTS[i - 1]! + 1, i === dots ? subject.length : DOTS[i])
}

/** Parses the reply subject of a JetStream delivery (v1 and v2 token layouts). */
export function parseAckSubject(reply: string | undefined): DeliveryInfo | undefined {
  if (reply === undefined || !reply.startsWith('$JS.ACK.')) return undefined
  // Token i runs from DOTS[i - 1] + 1 to DOTS[i] (the subject's end for the last one).
  let dots = 0
  for (let i = reply.indexOf('.'); i >= 0; i = reply.indexOf('.', i + 1)) {
    if (dots === DOTS.length) return undefined
    DOTS[dots++] = i
  }
  const tokens = dots + 1
  const at = tokens === 9 ? 2 : tokens >= 11 ? 4 : -1
  if (at < 0) return undefined
  const delivered = Number(ackToken(reply, at + 2, dots))
  const sequence = Number(ackToken(reply, at + 3, dots))
  if (!Number.isFinite(delivered) || !Number.isFinite(sequence)) return undefined
  // Nanoseconds: past 2^53, so a Number keeps them only to within a few hundred ns, ample for ms.
  const nanos = Number(ackToken(reply, at + 5, dots))
  const storedAt = Number.isFinite(nanos) && nanos > 0 ? Math.floor(nanos / 1e6) : undefined
  const stream = ackToken(reply, at, dots)
  return { stream, consumer: ackToken(reply, at + 1, dots), delivered, sequence, storedAt }
}
