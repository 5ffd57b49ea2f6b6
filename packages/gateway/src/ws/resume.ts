import { binaryCodec, type EventEnvelope } from '@switchyard/core'
import type { InboundMessage } from '@switchyard/core/transport'
import type { GatewayContext } from '../context.js'
import { HttpProblem } from '../problem.js'

const codec = binaryCodec()

/** Where a connection's replay starts (at most one form per connection). */
export type ResumeFrom =
  | { kind: 'earliest' }
  | { kind: 'after_id'; id: string }
  | { kind: 'sequence'; sequence: string; parts: number[] }
  | { kind: 'time'; ms: number }

/** Query parameters of `/ws/events/{stream}` that choose a resume point. */
export interface ResumeQuery {
  from?: string
  after_id?: string
  from_sequence?: string
  from_time?: string
}

/**
 * The numbers of a broker position, most significant first: `42` (memory), `1712-3` (Redis
 * stream id), `STREAM:42` (NATS stream and sequence; the stream name is not compared).
 */
export function positionParts(position: string): number[] | undefined {
  const tail = position.slice(position.lastIndexOf(':') + 1)
  const parts = tail.split('-').map((p) => (/^\d+$/.test(p) ? Number(p) : Number.NaN))
  return parts.length > 0 && parts.every(Number.isFinite) ? parts : undefined
}

/** -1, 0 or 1, comparing positions number by number (a missing number is 0). */
export function comparePositions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0)
    if (d !== 0) return d < 0 ? -1 : 1
  }
  return 0
}

/**
 * Reads the resume parameters; undefined when the connection only wants live events.
 * @throws {HttpProblem} 400 for two forms at once or a value that does not parse.
 */
export function parseResume(query: ResumeQuery): ResumeFrom | undefined {
  const given = (['from', 'after_id', 'from_sequence', 'from_time'] as const).filter(
    (k) => query[k] !== undefined && query[k] !== '',
  )
  if (given.length === 0) return undefined
  if (given.length > 1) {
    throw new HttpProblem(400, `Give one resume point, not ${given.join(' and ')}`)
  }
  if (query.from !== undefined) {
    if (query.from === 'earliest') return { kind: 'earliest' }
    if (query.from === 'latest') return undefined
    throw new HttpProblem(400, 'from must be "earliest" or "latest"')
  }
  if (query.after_id !== undefined) return { kind: 'after_id', id: query.after_id }
  if (query.from_sequence !== undefined) {
    const parts = positionParts(query.from_sequence)
    if (parts === undefined) {
      throw new HttpProblem(400, 'from_sequence must be a position as events frames show it')
    }
    return { kind: 'sequence', sequence: query.from_sequence, parts }
  }
  const raw = query.from_time!
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw)
  if (!Number.isFinite(ms)) {
    throw new HttpProblem(400, 'from_time must be an RFC 3339 time or milliseconds since the epoch')
  }
  return { kind: 'time', ms }
}

/** What a replay found in the retained events. */
export interface Replay {
  /** Events after the resume point, oldest first, with their positions. */
  events: { event: EventEnvelope; sequence: string | undefined }[]
  /** False when the stream held more than `resumeMax` events: later ones may be missing. */
  complete: boolean
  /** Events read. */
  scanned: number
  /** False only for `after_id` when the id is not among the events read. */
  found: boolean
}

function decode(message: InboundMessage): EventEnvelope | undefined {
  try {
    return message.event ?? codec.decode(message)
  } catch {
    return undefined
  }
}

function eventTime(event: EventEnvelope, message: InboundMessage): number {
  const time = event.time === undefined ? Number.NaN : Date.parse(event.time)
  return Number.isFinite(time) ? time : (message.timestamp ?? 0)
}

/**
 * The retained events after a resume point, read with the transport's `browse` from the oldest
 * retained event on (up to `max`). Undecodable entries are skipped.
 * @throws {HttpProblem} 501 when the transport cannot list retained events.
 */
export async function replay(
  ctx: GatewayContext,
  stream: string,
  from: ResumeFrom,
  max: number,
): Promise<Replay> {
  const transport = ctx.bus.transport
  if (transport.browse === undefined) {
    throw new HttpProblem(501, `The ${transport.name} transport cannot replay retained events`)
  }
  await ctx.bus.connect()
  const messages = await transport.browse(stream, { limit: max + 1 })
  const complete = messages.length <= max
  const read = messages.slice(0, max)
  const events: Replay['events'] = []
  let started = from.kind !== 'after_id'
  for (const message of read) {
    const event = decode(message)
    if (event === undefined) continue
    if (!started) {
      started = from.kind === 'after_id' && event.id === from.id
      continue
    }
    if (from.kind === 'time' && eventTime(event, message) < from.ms) continue
    if (from.kind === 'sequence') {
      const parts = message.position === undefined ? undefined : positionParts(message.position)
      if (parts !== undefined && comparePositions(parts, from.parts) < 0) continue
    }
    events.push({ event, sequence: message.position })
  }
  return { events, complete, scanned: read.length, found: started }
}
