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
 * Lists parked rows, oldest first. Parked rows are never deleted by the relay.
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

/** Age of the oldest unsent, unparked row in ms; 0 when the outbox is drained. */
export async function outboxLag(db: Queryable, options: { table?: string } = {}): Promise<number> {
  const { table } = tableNames(options.table)
  const { rows } = await db.query(
    `SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)) * 1000, 0)::float8 AS ms
     FROM (SELECT created_at FROM ${table}
           WHERE sent_at IS NULL AND parked_at IS NULL ORDER BY seq LIMIT 1) oldest`,
  )
  return Math.max(0, (rows[0] as { ms: number }).ms)
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
           WHERE sent_at < now() - $1::float8 * interval '1 millisecond' LIMIT 5000)
         RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [options.retentionMs],
    )
    const n = (rows[0] as { n: number }).n
    total += n
    if (n < 5000) return total
  }
}
