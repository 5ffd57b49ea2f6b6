import type { Msg } from '@nats-io/transport-node'
import type { InboundMessage, NackOptions } from '@switchyard/core/transport'
import {
  type DeliveryInfo,
  fromNatsHeaders,
  inboundHeader,
  inboundKey,
  KEY_HEADER,
} from './mapping.js'

/** The fields of nats.js's message class that hold what it received, read when present. */
interface ReceivedMsg {
  _msg?: { hdr?: unknown }
  _rdata?: unknown
}

const HEADER_LINE = 'NATS/1.0'

/**
 * Headers and key of a message, decoded straight from the bytes nats.js received into the
 * record core reads. nats.js's own `msg.headers` builds a header object first (a lookup over all
 * names per header added, a validation per value), which was the largest part of the adapter's
 * cost per delivery. Where the bytes are not reachable (another nats.js version), or the block is
 * unusual (a status line, a name given twice), `msg.headers` decodes it as before.
 */
export function deliveryHeaders(msg: Msg): {
  headers: Record<string, string>
  key: string | undefined
} {
  const raw = msg as unknown as ReceivedMsg
  const end = raw._msg?.hdr
  const data = raw._rdata
  if (typeof end === 'number' && data instanceof Uint8Array && end <= data.byteLength) {
    if (end < 0) return fromNatsHeaders(undefined)
    // nats.js hands over a Buffer (it reads from a socket); a view is made only otherwise.
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, end)
    const text = bytes.toString('utf8', 0, end)
    const decoded = parseHeaderBlock(text)
    if (decoded !== undefined) return decoded
  }
  return fromNatsHeaders(msg.headers)
}

/**
 * A header block (`NATS/1.0`, then `name: value` lines) as `fromNatsHeaders` would give it;
 * undefined for a status line or a name seen twice (left to nats.js's decoder).
 */
export function parseHeaderBlock(
  text: string,
): { headers: Record<string, string>; key: string | undefined } | undefined {
  let at = text.indexOf('\r\n')
  if (at !== HEADER_LINE.length || !text.startsWith(HEADER_LINE)) return undefined
  const headers: Record<string, string> = {}
  let key: string | undefined
  while (at >= 0) {
    const start = at + 2
    at = text.indexOf('\r\n', start)
    const end = at < 0 ? text.length : at
    const colon = text.indexOf(':', start)
    if (colon < 0 || colon >= end) continue
    const lower = text.slice(start, colon).toLowerCase()
    // A repeated name: nats.js keeps the first value per exact name; let it decide (a name
    // such as `constructor` goes that way too, which is only slower).
    if (headers[lower] !== undefined || (key !== undefined && lower === KEY_HEADER))
      return undefined
    key = inboundHeader(headers, lower, trimmed(text, colon + 1, end)) ?? key
  }
  return { headers, key: inboundKey(headers, key) }
}

/**
 * `text.slice(from, to).trim()`, without the untrimmed copy when only ASCII blanks surround the
 * value (nats.js writes one space after the colon).
 */
function trimmed(text: string, from: number, to: number): string {
  let start = from
  let end = to
  while (start < end && isBlank(text.charCodeAt(start))) start++
  while (end > start && isBlank(text.charCodeAt(end - 1))) end--
  const value = text.slice(start, end)
  // Other whitespace `trim` removes is not ASCII: leave those rare values to it.
  return start < end && (text.charCodeAt(start) > 127 || text.charCodeAt(end - 1) > 127)
    ? value.trim()
    : value
}

/** Space, tab, and the line and page breaks `trim` removes. */
function isBlank(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13)
}

/** What `Delivered` needs from its pull subscription to settle. */
export interface DeliveryOwner {
  readonly topic: string
  /** Acknowledges the delivery (`+ACK`), once. */
  ackDelivery(delivered: Delivered): void
  /** Gives it back for redelivery after `options.delayMs`. */
  nackDelivery(delivered: Delivered, options: NackOptions): void
}

/**
 * A JetStream delivery as handed to the bus. A class, not an object literal with `ack`/`nack`
 * closures: those were two functions and their contexts per message.
 */
export class Delivered implements InboundMessage {
  readonly headers: Record<string, string>
  readonly key: string | undefined
  readonly body: Uint8Array
  readonly timestamp: number | undefined
  readonly topic: string
  constructor(
    private readonly owner: DeliveryOwner,
    readonly msg: Msg,
    readonly info: DeliveryInfo,
    /** The reply subject, which settles it. */
    readonly reply: string,
    readonly attempt: number,
  ) {
    this.topic = owner.topic
    const { headers, key } = deliveryHeaders(msg)
    this.headers = headers
    this.key = key
    this.body = msg.data
    this.timestamp = info.storedAt
  }
  /** Stream and sequence, as `STREAM:42`. */
  get position(): string {
    return `${this.info.stream}:${this.info.sequence}`
  }
  /** Acknowledges the delivery. */
  ack(): void {
    this.owner.ackDelivery(this)
  }
  /** Gives it back for redelivery after `options.delayMs`. */
  nack(options: NackOptions): void {
    this.owner.nackDelivery(this, options)
  }
}
