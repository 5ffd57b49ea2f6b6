import { ConfigurationError } from '@switchyard/core'
import { checkNumber } from '@switchyard/core/transport'
import type { Queryable } from '@switchyard/outbox'
import { type EventFilter, filterSql } from './filter.js'
import type { StoreNames } from './names.js'
import { type EventRow, fromRow, type RecordedEvent } from './recorded.js'
import { EVENT_COLUMNS } from './schema.js'

/** Options of `readStream`. */
export interface ReadStreamOptions {
  /** First stream version to read (inclusive). @default 1 forward, the last event backward */
  from?: number
  /** Oldest first, or newest first. @default 'forward' */
  direction?: 'forward' | 'backward'
  /** Most events returned. @default all */
  limit?: number
  /** Read only when the stream belongs to this tenant; another tenant's stream reads as absent. */
  tenant?: string
}

/** What `readStream` found. */
export interface ReadStreamResult<T = unknown> {
  /** The events, in the direction asked. */
  events: RecordedEvent<T>[]
  /** The stream's version (its event count); 0 when it does not exist. */
  version: number
  /** Whether the stream exists (for the tenant asked). */
  exists: boolean
}

const MAX = Number.MAX_SAFE_INTEGER

function checkLimit(limit: number | undefined, field: string): number | null {
  if (limit === undefined) return null
  return checkNumber(limit, field, { min: 1, integer: true })
}

/** One statement, so the version and the events come from one snapshot. */
export async function readStream<T>(
  db: Queryable,
  n: StoreNames,
  streamId: string,
  options: ReadStreamOptions = {},
): Promise<ReadStreamResult<T>> {
  const backward = options.direction === 'backward'
  if (options.direction !== undefined && !backward && options.direction !== 'forward') {
    throw new ConfigurationError("direction must be 'forward' or 'backward'", {
      field: 'direction',
    })
  }
  const from =
    options.from === undefined
      ? backward
        ? MAX
        : 1
      : checkNumber(options.from, 'from', { min: 0, integer: true })
  const limit = checkLimit(options.limit, 'limit')
  const { rows } = await db.query(
    `SELECT s.version AS current_version, x.*
       FROM ${n.streams} s
       LEFT JOIN LATERAL (
         SELECT ${EVENT_COLUMNS} FROM ${n.events} e
          WHERE e.stream_id = s.stream_id AND e.stream_version ${backward ? '<=' : '>='} $2
          ORDER BY e.stream_version ${backward ? 'DESC' : 'ASC'} LIMIT $3
       ) x ON true
      WHERE s.stream_id = $1 AND ($4::text IS NULL OR s.tenant = $4::text)`,
    [streamId, from, limit, options.tenant ?? null],
  )
  const list = rows as Array<EventRow & { current_version: string | number }>
  if (list.length === 0) return { events: [], version: 0, exists: false }
  const events = list.filter((r) => r.position !== null).map((r) => fromRow<T>(r))
  return { events, version: Number(list[0]!.current_version), exists: true }
}

/** Options of `readAll`. */
export interface ReadAllOptions {
  /** First global position to read (inclusive). @default 1 */
  from?: number
  /** Most events returned. @default 1000 */
  limit?: number
  /** Only events that match; `nextPosition` still moves past the others. */
  filter?: EventFilter
}

/** A page of the global order. */
export interface ReadAllResult<T = unknown> {
  /** The events, by position. */
  events: RecordedEvent<T>[]
  /** Where the next page starts: pass it as `from`. */
  nextPosition: number
  /** The last committed position when the page was read. */
  headPosition: number
  /** Whether this page reached the head (nothing more committed to read right now). */
  caughtUp: boolean
}

/**
 * Reads events by global position. Positions are handed out in commit order, so what a
 * snapshot sees is always every position up to its head, none missing: a page that did not fill
 * reached the head, and `nextPosition` can move past it (and past what a filter skipped) safely.
 * The head comes from the same statement, so from the same snapshot.
 */
export async function readAll<T>(
  db: Queryable,
  n: StoreNames,
  options: ReadAllOptions = {},
): Promise<ReadAllResult<T>> {
  const from = options.from === undefined ? 1 : checkNumber(options.from, 'from', { min: 0 })
  const limit = checkLimit(options.limit, 'limit') ?? 1000
  const params: unknown[] = [Math.max(1, Math.floor(from)), limit]
  const where = filterSql(options.filter, params)
  // One statement, so the head and the page come from one snapshot; the head row comes first.
  const { rows } = await db.query(
    `SELECT h.position AS head, NULL::bigint AS position, NULL AS stream_id,
            NULL::bigint AS stream_version, NULL AS topic, NULL::jsonb AS envelope,
            NULL::int8 AS recorded_ms
       FROM ${n.head} h
     UNION ALL
     (SELECT NULL::bigint, ${EVENT_COLUMNS} FROM ${n.events} e
       WHERE e.position >= $1
       ${where.map((w) => `AND ${w}`).join(' ')}
       ORDER BY e.position LIMIT $2)`,
    params,
  )
  const list = rows as Array<EventRow & { head: string | number | null }>
  let head = 0
  let sorted = true
  const events: RecordedEvent<T>[] = []
  for (const row of list) {
    if (row.position === null) {
      head = Number(row.head)
      continue
    }
    const event = fromRow<T>(row)
    if (events.length > 0 && events[events.length - 1]!.position > event.position) sorted = false
    events.push(event)
  }
  // UNION ALL keeps each branch's order in practice; the check makes it a guarantee.
  if (!sorted) events.sort((a, b) => a.position - b.position)
  const full = events.length === limit
  const start = Math.max(1, Math.floor(from))
  const nextPosition = full ? events[events.length - 1]!.position + 1 : Math.max(start, head + 1)
  return { events, nextPosition, headPosition: head, caughtUp: !full }
}

/** One event by id; undefined when absent or, given a tenant, another tenant's. */
export async function getEvent<T>(
  db: Queryable,
  n: StoreNames,
  id: string,
  options: { tenant?: string } = {},
): Promise<RecordedEvent<T> | undefined> {
  const { rows } = await db.query(
    `SELECT ${EVENT_COLUMNS} FROM ${n.events} e
      WHERE e.id = $1 AND ($2::text IS NULL OR e.tenant = $2::text)`,
    [id, options.tenant ?? null],
  )
  const row = rows[0] as EventRow | undefined
  return row === undefined ? undefined : fromRow<T>(row)
}
