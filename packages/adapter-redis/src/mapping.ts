import { isUtf8 } from 'node:buffer'
import type { InboundMessage, NackOptions, OutboundMessage } from '@switchyard/core/transport'

// A stream entry is a flat list of field/value pairs. CloudEvents attributes travel as their
// `ce_*` headers, the data as one `data` field, so any Redis client can read and write them.
// A key that the `ce_partitionkey` header does not already carry gets a `key` field. A header
// that would collide with those two (or starts with `~`) is stored with one extra `~`.
const DATA = 'data'
const KEY = 'key'
const PARTITION_HEADER = 'ce_partitionkey'

/** The keys of one topic, all in one hash slot (`{prefix:topic}`), so scripts work on Cluster. */
export interface TopicKeys {
  readonly stream: string
  /** Hash: events each group lost to `lossyTrim`, not yet reported to it. */
  readonly trimmed: string
  readonly delay: (group: string) => string
  readonly attempts: (group: string) => string
}

/** Keys of a topic under a prefix. */
export function topicKeys(prefix: string, topic: string): TopicKeys {
  const tag = `{${prefix}:${topic}}`
  return {
    stream: `${tag}:stream`,
    trimmed: `${tag}:trimmed`,
    delay: (group) => `${tag}:delay:${group}`,
    attempts: (group) => `${tag}:attempts:${group}`,
  }
}

/** The field/value arguments of `XADD` for one message, appended to `fields` when given. */
export function toFields(
  message: OutboundMessage,
  fields: Array<string | Buffer | number> = [],
): Array<string | Buffer | number> {
  for (const name in message.headers) {
    const stored = name === DATA || name === KEY || name.startsWith('~') ? `~${name}` : name
    fields.push(stored, message.headers[name]!)
  }
  if (message.key !== undefined && message.headers[PARTITION_HEADER] !== message.key) {
    fields.push(KEY, message.key)
  }
  // The codec's text when it has it: no bytes made only to be turned back into a string.
  fields.push(DATA, message.text ?? bodyArgument(message.body))
  return fields
}

/**
 * The body as an `XADD` argument. UTF-8 text (JSON, the common case) goes as a string: ioredis
 * writes a command of strings in one go but assembles one with a Buffer piece by piece, which
 * costs more than the decode. Other bytes go as a Buffer (ioredis would stringify a bare
 * Uint8Array), wrapped without copying.
 */
function bodyArgument(body: Uint8Array): string | Buffer {
  const buffer = Buffer.isBuffer(body)
    ? body
    : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  return buffer.length <= 65_536 && isUtf8(buffer) ? buffer.toString('utf8') : buffer
}

/** Who settles a `StreamEntry`: its subscription, or nobody for a browsed one. */
export interface Settler {
  ack(entry: StreamEntry): void
  nack(entry: StreamEntry, options: NackOptions): Promise<void>
}

const EMPTY = new Uint8Array(0)
const BROWSED: Settler = { ack: () => undefined, nack: () => Promise.resolve() }

/**
 * A stream entry as handed to the bus: its fields (as Buffers, so binary data survives) split
 * into headers, body and key. Never throws: bad entries decode in core.
 */
export class StreamEntry implements InboundMessage {
  readonly headers: Record<string, string> = {}
  readonly body: Uint8Array = EMPTY
  readonly key: string | undefined
  constructor(
    readonly topic: string,
    readonly position: string,
    fields: readonly Buffer[],
    readonly attempt: number,
    private readonly owner: Settler = BROWSED,
  ) {
    let key: string | undefined
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i]!.toString()
      const value = fields[i + 1]!
      if (name === DATA) this.body = value
      else if (name === KEY) key = value.toString()
      // 126 is `~`: an escaped header name.
      else this.headers[name.charCodeAt(0) === 126 ? name.slice(1) : name] = value.toString()
    }
    this.key = key ?? this.headers[PARTITION_HEADER]
  }
  /** When Redis added the entry: the millisecond part of its id. */
  get timestamp(): number | undefined {
    return idTime(this.position)
  }
  /** Acknowledges the entry (`XACK`, batched per turn). */
  ack(): void {
    this.owner.ack(this)
  }
  /** Parks the entry for redelivery after `options.delayMs`. */
  nack(options: NackOptions): Promise<void> {
    return this.owner.nack(this, options)
  }
}

/** The time a stream id was assigned (its millisecond part), or undefined for a malformed id. */
export function idTime(id: string): number | undefined {
  const ms = Number.parseInt(id, 10)
  return ms > 0 ? ms : undefined
}

/** Stream id of the last entry before `time` (ms), so a group created there reads from `time` on. */
export function idBeforeTime(ms: number): string {
  const whole = Math.floor(ms)
  return whole <= 0 ? '0' : `${whole - 1}-18446744073709551615`
}

/** Stream id just before `sequence`, so a group created there reads it and what follows. */
export function idBefore(sequence: string | number | bigint): string {
  const text = String(sequence).trim()
  const match = /^(\d+)(?:-(\d+))?$/u.exec(text)
  if (match === null) return ''
  const ms = BigInt(match[1]!)
  const seq = BigInt(match[2] ?? '0')
  if (seq > 0n) return `${ms}-${seq - 1n}`
  return ms === 0n ? '0' : `${ms - 1n}-18446744073709551615`
}
