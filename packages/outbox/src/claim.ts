import type { OutboxRow, Queryable } from './driver.js'
import type { TableNames } from './schema.js'

/** What one claim found. */
export interface Claim {
  /** Rows locked for this transaction, in outbox order. */
  rows: OutboxRow[]
  /** Ordering lanes with publishable rows near the head of the outbox. */
  lanesSeen: number
  /** Lanes this transaction holds (advisory locks, released at commit). */
  lanesHeld: number
}

const PENDING = 'sent_at IS NULL AND parked_at IS NULL'

/**
 * Claims a batch inside the caller's transaction. Ordering: each (topic, key) hashes to a lane;
 * a relay takes rows of a keyed event only while holding its lane's transaction-level advisory
 * lock, so two relays never publish the same key at once, and only when no row of the key waits
 * in backoff, so a failing row holds back the rows behind it. Rows without a key are
 * claimed by any relay, skipping those another relay has locked.
 */
export async function claimBatch(
  tx: Queryable,
  names: TableNames,
  limits: { batchSize: number; lanesPerClaim: number },
): Promise<Claim> {
  const { table, lockSpace } = names
  // Keys with a row waiting in backoff (only rows that failed, attempts > 0, can wait, and a small
  // partial index holds just those). They are left out of the head too: otherwise the rows
  // queued behind one failing key fill the first `batchSize` rows and hide every other key.
  const waiting = `SELECT DISTINCT b.topic || chr(31) || b.partition_key FROM ${table} b
    WHERE b.sent_at IS NULL AND b.parked_at IS NULL AND b.attempts > 0
      AND b.available_at > now() AND b.lane IS NOT NULL`
  // The lanes of the first rows, in order of their first row, locked while the count allows.
  // ARRAY(... LIMIT) stops trying locks once enough are held, so a relay leaves lanes to others.
  // The commit only marks rows sent, so it need not wait for the WAL flush: if the server loses
  // it, the rows are published again, which at-least-once delivery allows.
  const lanes = await tx.query(
    `WITH head AS MATERIALIZED (
       SELECT lane, seq FROM ${table}
       WHERE ${PENDING} AND available_at <= now() AND lane IS NOT NULL
         AND topic || chr(31) || partition_key <> ALL (ARRAY(${waiting}))
       ORDER BY seq LIMIT $1
     ), candidates AS MATERIALIZED (
       SELECT lane, min(seq) AS first FROM head GROUP BY lane ORDER BY first
     )
     SELECT set_config('synchronous_commit', 'off', true) AS sync,
       (SELECT count(*) FROM candidates)::int AS seen,
       ARRAY(SELECT lane FROM candidates WHERE pg_try_advisory_xact_lock($2::int, lane) LIMIT $3) AS held`,
    [limits.batchSize, lockSpace, limits.lanesPerClaim],
  )
  const first = lanes.rows[0] as { seen: number; held: number[] }
  // Keys with a row waiting in backoff are skipped whole, read again after the lane locks were
  // taken (a new statement, a new snapshot), so a failure just committed by the lane's previous
  // holder is seen.
  const claimed = await tx.query(
    `SELECT o.seq::text AS seq, o.id, o.topic, o.partition_key, o.headers, o.payload, o.attempts
     FROM ${table} o
     WHERE o.sent_at IS NULL AND o.parked_at IS NULL AND o.available_at <= now()
       AND (o.lane IS NULL OR (o.lane = ANY($1::int[])
         AND o.topic || chr(31) || o.partition_key <> ALL (ARRAY(${waiting}))))
     ORDER BY o.seq LIMIT $2
     FOR UPDATE OF o SKIP LOCKED`,
    [first.held, limits.batchSize],
  )
  return { rows: claimed.rows as OutboxRow[], lanesSeen: first.seen, lanesHeld: first.held.length }
}

/** Marks rows sent, or deletes them when nothing is retained. */
export async function markSent(
  tx: Queryable,
  names: TableNames,
  seqs: string[],
  keep: boolean,
): Promise<void> {
  if (seqs.length === 0) return
  const sql = keep
    ? `UPDATE ${names.table} SET sent_at = now()
       WHERE seq = ANY($1::text[]::bigint[]) AND sent_at IS NULL`
    : `DELETE FROM ${names.table} WHERE seq = ANY($1::text[]::bigint[])`
  await tx.query(sql, [seqs])
}

/** A failed row's next state. */
export interface Failure {
  seq: string
  /** Delay before the next attempt. */
  delayMs: number
  /** Give up: park the row. */
  park: boolean
  /** Recorded as `last_error`. */
  error: string
  /** Attempts the row had when claimed: the update applies only if nobody counted since. */
  attempts: number
}

/**
 * Counts an attempt on each failed row and schedules its retry or parks it. Applies to a row only
 * while it is pending with the attempts it was claimed with, so recording an outcome a second
 * time (after a lost connection, see `runBatch`) counts nothing twice.
 */
export async function markFailed(
  tx: Queryable,
  names: TableNames,
  failures: Failure[],
): Promise<void> {
  if (failures.length === 0) return
  await tx.query(
    `UPDATE ${names.table} o SET attempts = o.attempts + 1, last_error = f.error,
       available_at = now() + f.delay * interval '1 millisecond',
       parked_at = CASE WHEN f.park THEN now() END
     FROM unnest($1::text[], $2::int[], $3::bool[], $4::text[], $5::int[])
       AS f(seq, delay, park, error, attempts)
     WHERE o.seq = f.seq::bigint AND o.attempts = f.attempts
       AND o.sent_at IS NULL AND o.parked_at IS NULL`,
    [
      failures.map((f) => f.seq),
      failures.map((f) => Math.min(Math.round(f.delayMs), 2_000_000_000)),
      failures.map((f) => f.park),
      failures.map((f) => f.error),
      failures.map((f) => f.attempts),
    ],
  )
}
