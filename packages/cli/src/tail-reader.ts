import type { EventBus } from '@switchyard/core'
import type { InboundMessage } from '@switchyard/core/transport'
import { NotFoundError, UsageError } from './exit-codes.js'

/** Where `tail` starts: as `StartAt`, with `position` a broker position tail printed before. */
export type TailFrom =
  | { kind: 'latest' }
  | { kind: 'earliest' }
  | { kind: 'time'; ms: number }
  | { kind: 'position'; position: string }

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * Reads `--from`: `latest`, `earliest`, an ISO time, a duration back from now (`10m`, `2h`), or a
 * broker position as tail prints it (`1718000000000-0` on Redis, `STREAM:42` or `42` on NATS,
 * `0:17` on Kafka).
 */
export function parseFrom(text: string, now = Date.now()): TailFrom {
  if (text === 'latest' || text === 'earliest') return { kind: text }
  const ago = /^(\d+)(ms|s|m|h|d)$/.exec(text)
  if (ago !== null) return { kind: 'time', ms: now - Number(ago[1]) * UNITS[ago[2]!]! }
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const ms = Date.parse(text)
    if (!Number.isFinite(ms))
      throw new UsageError(
        `--from "${text}" is not a valid time: use ISO 8601 (2025-01-31T12:00:00Z)`,
      )
    return { kind: 'time', ms }
  }
  if (text.trim() === '') throw new UsageError('--from needs a value')
  return { kind: 'position', position: text }
}

function keyOf(message: InboundMessage, index: number): string {
  return message.position ?? message.headers.ce_id ?? message.headers['ce-id'] ?? `#${index}`
}

function matchesPosition(message: InboundMessage, position: string): boolean {
  const p = message.position
  return p !== undefined && (p === position || p.endsWith(`:${position}`))
}

/** Options of `tailTopic`. */
export interface TailReadOptions {
  from: TailFrom
  intervalMs: number
  signal: AbortSignal
  /** The event time of a message without a broker timestamp (decoded by the caller). */
  timeOf: (message: InboundMessage) => number | undefined
  /** Called once the first read placed the reader: events published from then on are shown. */
  onReady?: () => void
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

/**
 * Yields the messages of a topic from `from` on, polling until `signal` aborts. It reads the
 * topic with the transport's `browse` (the read-only listing dead letters use) and `inspect`:
 * no consumer group of the topic is joined or moved, so no group loses or re-reads an event.
 * Each poll re-reads the retained messages and yields those it has not seen (by broker
 * position), so its cost grows with the topic's retained count: the `Transport` contract has no
 * read-from-a-position primitive yet.
 */
export async function* tailTopic(
  bus: EventBus,
  topic: string,
  options: TailReadOptions,
): AsyncGenerator<InboundMessage> {
  const { transport } = bus
  const browse = transport.browse?.bind(transport)
  if (browse === undefined)
    throw new UsageError(`The ${transport.name} transport cannot be read without a group`)
  const read = async () => {
    const [inspected] = (await transport.inspect?.([topic])) ?? []
    // Room for what arrives between the count and the read.
    const limit = (inspected?.retained ?? 100_000) + 10_000
    return browse(topic, { limit })
  }
  const first = await read()
  let seen = new Set(first.map(keyOf))
  const { from } = options
  let start = first.length
  if (from.kind === 'earliest') start = 0
  else if (from.kind === 'time') {
    start = first.findIndex((m) => (m.timestamp ?? options.timeOf(m) ?? 0) >= from.ms)
    if (start < 0) start = first.length
  } else if (from.kind === 'position') {
    start = first.findIndex((m) => matchesPosition(m, from.position))
    if (start < 0)
      throw new NotFoundError(`Position "${from.position}" is not retained on topic "${topic}"`)
  }
  options.onReady?.()
  for (let i = start; i < first.length; i++) yield first[i]!
  while (!options.signal.aborted) {
    await sleep(options.intervalMs, options.signal)
    if (options.signal.aborted) return
    const batch = await read()
    const next = new Set<string>()
    for (let i = 0; i < batch.length; i++) {
      const message = batch[i]!
      const key = keyOf(message, i)
      next.add(key)
      if (!seen.has(key)) yield message
    }
    seen = next
  }
}
