import { ConfigurationError } from '@switchyard/core'
import { checkNumber } from '@switchyard/core/transport'
import type { Queryable } from '@switchyard/outbox'
import { type EventFilter, filterSql } from './filter.js'
import type { StoreNames } from './names.js'
import { type EventRow, fromRow, type RecordedEvent } from './recorded.js'
import { EVENT_COLUMNS } from './schema.js'

/** A query over every stored event (appended and archived), paged by position. */
export interface EventQuery extends EventFilter {
  /** Events after this position (forward) or before it (backward): the last page's `next`. */
  after?: number
  /** Oldest first, or newest first. @default 'forward' */
  direction?: 'forward' | 'backward'
  /** Most events per page. @default 100 */
  limit?: number
  /** Events at or after this global position. */
  fromPosition?: number
  /** Events at or before this global position. */
  toPosition?: number
}

/** One page of a query. */
export interface EventPage<T = unknown> {
  /** The events, by position in the direction asked. */
  events: RecordedEvent<T>[]
  /** Pass as `after` for the next page; undefined when this page was the last one. */
  next: number | undefined
}

const OWN_KEYS = ['after', 'direction', 'limit', 'fromPosition', 'toPosition']

function split(query: EventQuery): { filter: EventFilter; rest: Partial<EventQuery> } {
  if (query === null || typeof query !== 'object') {
    throw new ConfigurationError('A query must be an object', { field: 'query' })
  }
  const filter: Record<string, unknown> = {}
  const rest: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue
    if (OWN_KEYS.includes(key)) rest[key] = value
    else filter[key] = value
  }
  return { filter, rest }
}

function positionConditions(rest: Partial<EventQuery>, params: unknown[]): string[] {
  const where: string[] = []
  const backward = rest.direction === 'backward'
  if (rest.direction !== undefined && !backward && rest.direction !== 'forward') {
    throw new ConfigurationError("direction must be 'forward' or 'backward'", {
      field: 'direction',
    })
  }
  const bound = (value: number | undefined, field: string, op: string) => {
    if (value === undefined) return
    params.push(checkNumber(value, field, { min: 0, integer: true }))
    where.push(`e.position ${op} $${params.length}`)
  }
  bound(rest.after, 'after', backward ? '<' : '>')
  bound(rest.fromPosition, 'fromPosition', '>=')
  bound(rest.toPosition, 'toPosition', '<=')
  return where
}

/**
 * One page of events matching a query. Keyset-paged on the global position: positions are
 * handed out in commit order, so events committed while a client pages through arrive after
 * every page it has read (forward) and never shift a page.
 * @throws {ConfigurationError} for an unknown or malformed query field.
 */
export async function queryEvents<T>(
  db: Queryable,
  n: StoreNames,
  query: EventQuery,
): Promise<EventPage<T>> {
  const { filter, rest } = split(query)
  const limit =
    rest.limit === undefined ? 100 : checkNumber(rest.limit, 'limit', { min: 1, integer: true })
  const params: unknown[] = []
  const where = [...filterSql(filter, params), ...positionConditions(rest, params)]
  params.push(limit + 1)
  const { rows } = await db.query(
    `SELECT ${EVENT_COLUMNS} FROM ${n.events} e
      ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}
      ORDER BY e.position ${rest.direction === 'backward' ? 'DESC' : 'ASC'}
      LIMIT $${params.length}`,
    params,
  )
  const list = rows as EventRow[]
  const more = list.length > limit
  const events = list.slice(0, limit).map((r) => fromRow<T>(r))
  return { events, next: more ? events[events.length - 1]!.position : undefined }
}

/** How many events match a query (paging fields other than the position bounds are ignored). */
export async function countEvents(
  db: Queryable,
  n: StoreNames,
  query: EventQuery,
): Promise<number> {
  const { filter, rest } = split(query)
  const { after: _after, direction: _direction, ...bounds } = rest
  const params: unknown[] = []
  const where = [...filterSql(filter, params), ...positionConditions(bounds, params)]
  const { rows } = await db.query(
    `SELECT count(*) AS n FROM ${n.events} e
      ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}`,
    params,
  )
  return Number((rows[0] as { n: string | number }).n)
}
