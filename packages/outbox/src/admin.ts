import { ConfigurationError } from '@switchyard/core'
import type { Queryable } from './driver.js'
import { tableNames } from './schema.js'

/** A row the relay gave up on. */
export interface ParkedRow {
  /** Event id. */
  id: string
  /** Destination topic. */
  topic: string
  /** Partition key, if any. */
  partitionKey: string | null
  /** Publish attempts made. */
  attempts: number
  /** The error that parked it, as `Name: message`. */
  lastError: string | null
  /** When the event was enqueued. */
  createdAt: Date
  /** When it was parked. */
  parkedAt: Date
}

/**
 * Lists parked rows, oldest first. Parked rows are never deleted by the relay; `deleteParked` removes them.
 * @example const parked = await listParked(pool, { limit: 20 })
 */
export async function listParked(
  db: Queryable,
  options: { table?: string; limit?: number } = {},
): Promise<ParkedRow[]> {
  const { table } = tableNames(options.table)
  const { rows } = await db.query(
    `SELECT id, topic, partition_key, attempts, last_error, created_at, parked_at FROM ${table}
     WHERE parked_at IS NOT NULL ORDER BY seq LIMIT $1`,
    [options.limit ?? 100],
  )
  return (rows as Record<string, unknown>[]).map((r) => ({
    id: r.id as string,
    topic: r.topic as string,
    partitionKey: r.partition_key as string | null,
    attempts: r.attempts as number,
    lastError: r.last_error as string | null,
    createdAt: new Date(r.created_at as Date),
    parkedAt: new Date(r.parked_at as Date),
  }))
}

/**
 * Puts parked rows back in line with a fresh attempt budget, once the cause is fixed: all of them,
 * or those with the given event ids. Resolves with the count.
 * @example await requeueParked(pool, { ids: ['0b7c...'] })
 */
export async function requeueParked(
  db: Queryable,
  options: { table?: string; ids?: readonly string[] } = {},
): Promise<number> {
  const { table } = tableNames(options.table)
  const filter = options.ids === undefined ? '' : 'AND id = ANY($1::text[])'
  const { rows } = await db.query(
    `WITH back AS (
       UPDATE ${table} SET parked_at = NULL, attempts = 0, available_at = now()
       WHERE parked_at IS NOT NULL ${filter} RETURNING 1)
     SELECT count(*)::int AS n FROM back`,
    options.ids === undefined ? [] : [options.ids],
  )
  return (rows[0] as { n: number }).n
}

/**
 * Deletes parked rows for good: all of them, those with the given event ids, or those parked
 * longer ago than `olderThanMs`. Resolves with the count. Their event ids may be enqueued again.
 * @example await deleteParked(pool, { ids: ['0b7c...'] })
 */
export async function deleteParked(
  db: Queryable,
  options: { table?: string; ids?: readonly string[]; olderThanMs?: number } = {},
): Promise<number> {
  const { table } = tableNames(options.table)
  const params: unknown[] = []
  let filter = ''
  if (options.ids !== undefined) {
    params.push(options.ids)
    filter += ` AND id = ANY($${params.length}::text[])`
  }
  if (options.olderThanMs !== undefined) {
    params.push(options.olderThanMs)
    filter += ` AND parked_at < now() - $${params.length}::float8 * interval '1 millisecond'`
  }
  const { rows } = await db.query(
    `WITH gone AS (DELETE FROM ${table} WHERE parked_at IS NOT NULL${filter} RETURNING 1)
     SELECT count(*)::int AS n FROM gone`,
    params,
  )
  return (rows[0] as { n: number }).n
}

/**
 * Age in ms of the oldest row not yet sent, parked rows included (a parked row is an event that
 * did not go out, so a lag-based health check stays red until it is requeued or deleted); 0 when
 * every row is sent. `{ includeParked: false }` measures the rows the relay still works on.
 * @example if ((await outboxLag(pool)) > 60_000) alert('outbox behind')
 */
export async function outboxLag(
  db: Queryable,
  options: { table?: string; includeParked?: boolean } = {},
): Promise<number> {
  const { table } = tableNames(options.table)
  const where =
    options.includeParked === false ? 'sent_at IS NULL AND parked_at IS NULL' : 'sent_at IS NULL'
  const { rows } = await db.query(
    `SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)) * 1000, 0)::float8 AS ms
     FROM (SELECT created_at FROM ${table} WHERE ${where} ORDER BY seq LIMIT 1) oldest`,
  )
  return Math.max(0, (rows[0] as { ms: number }).ms)
}

/** What `outboxStatus` reports. */
export interface OutboxStatus {
  /** Rows waiting to be published (unsent, not parked). */
  pending: number
  /** Age in ms of the oldest pending row; 0 when there is none. */
  pendingLagMs: number
  /** Rows the relay gave up on. */
  parked: number
  /** Age in ms (since enqueue) of the oldest parked row; 0 when there is none. */
  parkedLagMs: number
}

/**
 * Pending and parked rows counted apart, for a health check that must tell "behind" from
 * "stuck": healthy means `parked === 0` and `pendingLagMs` under your bound.
 * @example const { parked, pendingLagMs } = await outboxStatus(pool)
 */
export async function outboxStatus(
  db: Queryable,
  options: { table?: string } = {},
): Promise<OutboxStatus> {
  const { table } = tableNames(options.table)
  const age = (filter: string) =>
    `COALESCE((SELECT EXTRACT(EPOCH FROM now() - created_at) * 1000 FROM ${table}
       WHERE ${filter} ORDER BY seq LIMIT 1), 0)::float8`
  const pending = 'sent_at IS NULL AND parked_at IS NULL'
  const parked = 'parked_at IS NOT NULL AND sent_at IS NULL'
  const { rows } = await db.query(
    `SELECT (SELECT count(*) FROM ${table} WHERE ${pending})::int AS pending,
       ${age(pending)} AS pending_ms,
       (SELECT count(*) FROM ${table} WHERE ${parked})::int AS parked,
       ${age(parked)} AS parked_ms`,
  )
  const r = rows[0] as { pending: number; pending_ms: number; parked: number; parked_ms: number }
  return {
    pending: r.pending,
    pendingLagMs: Math.max(0, r.pending_ms),
    parked: r.parked,
    parkedLagMs: Math.max(0, r.parked_ms),
  }
}

/**
 * Deletes sent rows older than `olderThanMs` (default 0: every sent row) in chunks, whatever the
 * relays' `retentionMs`; resolves with the count. Pending and parked rows are never touched.
 * @example await pruneSent(pool, { olderThanMs: 3_600_000 }) // keep the last hour
 */
export async function pruneSent(
  db: Queryable,
  options: { table?: string; olderThanMs?: number } = {},
): Promise<number> {
  const olderThanMs = options.olderThanMs ?? 0
  if (typeof olderThanMs !== 'number' || !(olderThanMs >= 0)) {
    throw new ConfigurationError('olderThanMs must be a number of milliseconds, 0 or more', {
      field: 'olderThanMs',
    })
  }
  return cleanupSent(db, {
    retentionMs: olderThanMs,
    ...(options.table ? { table: options.table } : {}),
  })
}

/** Deletes sent rows older than `retentionMs` in chunks; resolves with the count. */
export async function cleanupSent(
  db: Queryable,
  options: { table?: string; retentionMs: number },
): Promise<number> {
  const { table } = tableNames(options.table)
  let total = 0
  for (;;) {
    const { rows } = await db.query(
      `WITH gone AS (
         DELETE FROM ${table} WHERE seq IN (
           SELECT seq FROM ${table}
           WHERE sent_at <= now() - $1::float8 * interval '1 millisecond' LIMIT 5000)
         RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [options.retentionMs],
    )
    const n = (rows[0] as { n: number }).n
    total += n
    if (n < 5000) return total
  }
}
