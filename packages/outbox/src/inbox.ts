import { randomUUID } from 'node:crypto'
import {
  ConfigurationError,
  type DedupClaim,
  type DedupStore,
  isOutcome,
  type Outcome,
} from '@switchyard/core'
import { checkKeys, checkNumber } from '@switchyard/core/transport'
import type { OutboxDriver, Queryable } from './driver.js'
import { type PgPoolLike, pgDriver } from './driver-pg.js'
import { tableNames } from './schema.js'

/** What the inbox needs to know about the event being handled: a `HandleContext` fits. */
export interface InboxContext {
  /** Consumer group handling the event. */
  readonly group: string
  /** The event (its id, and its source for custom keys). */
  readonly event: { readonly id: string; readonly source: string }
}

/** Options of `pgInboxStore`: a driver (or a `pg` pool), the table, and how long records live. */
export interface PgInboxStoreOptions {
  /** Database access: `pgDriver({...})` or `pgliteDriver(db)`. Give this or `pool`. */
  driver?: OutboxDriver
  /** A `pg.Pool`, wrapped in `pgDriver({ pool })`; it stays open. Give this or `driver`. */
  pool?: PgPoolLike
  /** The inbox table, created by `migrateInbox()`. @default 'inbox' */
  table?: string
  /** How long `handle()` remembers a handled event (`dedup()` passes its own `ttlMs`). @default 24 h */
  ttlMs?: number
  /**
   * How long `handle()` waits for another consumer that holds the event to commit or roll back;
   * past it, the delay of the retry it asks for. Each such retry counts an attempt against the
   * subscription's `retry.maxAttempts`. `0`: no waiting. @default 1_000
   */
  retryDelayMs?: number
  /** Key of an event in the table, as for `dedup()`. @default `${group}:${event.id}` */
  key?: (ctx: InboxContext) => string
}

/** Options of `PgInboxStore.prune`. */
export interface InboxPruneOptions {
  /** Rows deleted per statement; the prune runs statements until none is left. @default 10_000 */
  chunkSize?: number
}

/**
 * An inbox on PostgreSQL or PGlite: a `DedupStore` for core's `dedup({ store })`, and `handle()`,
 * which records an event as handled in the same transaction as the handler's own writes.
 */
export interface PgInboxStore extends DedupStore {
  /** The table, as given. */
  readonly table: string
  /**
   * Runs `work` inside one database transaction together with the record that this group
   * handled the event, and commits both at once: MassTransit's inbox. An event already recorded
   * resolves to `outcome.drop('duplicate')` without running `work`; one another consumer is
   * handling right now is waited for up to `retryDelayMs` (then dropped if that consumer
   * committed, handled here if it rolled back), else resolves to
   * `outcome.retry({ delayMs: retryDelayMs })`. The transaction
   * commits when `work` returns nothing, a value that is not an outcome, `outcome.success()` or
   * `outcome.drop()`; it rolls back (no record, none of `work`'s writes) when `work` throws or
   * returns `outcome.retry()` or `outcome.deadLetter()`, and when the process dies before the
   * commit. Resolves with what `work` returned; return it from your handler.
   * @example
   * await bus.subscribe('orders', (event, ctx) =>
   *   inbox.handle(ctx, async (tx) => {
   *     await tx.query('INSERT INTO invoices (order_id) VALUES ($1)', [event.id])
   *     await enqueue(tx, 'invoices', { type: 'invoice.created', data: { order: event.id } })
   *   }), { group: 'billing' })
   */
  handle<R>(ctx: InboxContext, work: (tx: Queryable) => Promise<R> | R): Promise<R | Outcome>
  /** Deletes expired rows (handled events past their TTL, claims past their lease); resolves with the count. */
  prune(options?: InboxPruneOptions): Promise<number>
}

/** Thrown inside the transaction to roll it back when `work` asked for a retry or a dead letter. */
class Rollback {
  constructor(readonly result: unknown) {}
}

const MS = `* interval '1 millisecond'`

/**
 * An inbox table as a shared dedup store and a transactional handler wrapper, for every consumer
 * of a group on the same database. Claims, records and releases are single statements, atomic
 * across processes; times come from the database clock, so processes need not agree on theirs.
 * Create the table first with `migrateInbox()`.
 * @example
 * const inbox = pgInboxStore({ driver: pgDriver({ pool }) })
 * const bus = createEventBus({ transport, middleware: [dedup({ store: inbox })] }) // or inbox.handle
 * @throws {ConfigurationError} without a driver or pool, or for an invalid table name or option.
 */
export function pgInboxStore(options: PgInboxStoreOptions): PgInboxStore {
  checkKeys(options, ['driver', 'pool', 'table', 'ttlMs', 'retryDelayMs', 'key'], 'pgInboxStore')
  let driver = options?.driver
  if (driver === undefined && options?.pool !== undefined) driver = pgDriver({ pool: options.pool })
  if (driver === undefined || typeof driver.transaction !== 'function') {
    throw new ConfigurationError(
      'pgInboxStore needs { driver: pgDriver(...) | pgliteDriver(db) } or { pool }',
      { field: 'pgInboxStore.driver' },
    )
  }
  const db: OutboxDriver = driver
  const name = options.table ?? 'inbox'
  const { table, lockSpace } = tableNames(name, 'inbox')
  const ttlMs = checkNumber(options.ttlMs ?? 86_400_000, 'pgInboxStore.ttlMs', { min: 1 })
  const retryDelayMs = checkNumber(options.retryDelayMs ?? 1_000, 'pgInboxStore.retryDelayMs', {
    min: 0,
  })
  if (options.key !== undefined && typeof options.key !== 'function') {
    throw new ConfigurationError('pgInboxStore.key must be a function of the handle context', {
      field: 'pgInboxStore.key',
    })
  }
  const keyOf = options.key ?? ((ctx: InboxContext) => `${ctx.group}:${ctx.event.id}`)
  /** Tokens of the claims this store made and has not completed or released. */
  const tokens = new Map<string, string>()

  // Takes an expired row over, or inserts a new one; a live row is left alone (no row returned).
  const upsert = (state: 'pending' | 'done') => `
    INSERT INTO ${table} AS i (key, state, token, expires_at)
    VALUES ($1, '${state}', $2, clock_timestamp() + $3::float8 ${MS})
    ON CONFLICT (key) DO UPDATE SET state = EXCLUDED.state, token = EXCLUDED.token,
      expires_at = EXCLUDED.expires_at, updated_at = clock_timestamp()
    WHERE i.expires_at <= clock_timestamp()
    RETURNING key`
  const liveState = async (q: Queryable, key: string): Promise<'pending' | 'done' | undefined> => {
    const { rows } = await q.query(
      `SELECT state FROM ${table} WHERE key = $1 AND expires_at > clock_timestamp()`,
      [key],
    )
    return (rows[0] as { state: 'pending' | 'done' } | undefined)?.state
  }

  return {
    table: name,
    async claim(key, leaseMs): Promise<DedupClaim> {
      const token = randomUUID()
      // A live row that expires (or is pruned) between the two statements is claimed on the next
      // round; three rounds cover any realistic interleaving, then the caller retries later.
      for (let round = 0; round < 3; round++) {
        const { rows } = await db.query(upsert('pending'), [key, token, leaseMs])
        if (rows.length > 0) {
          tokens.set(key, token)
          return 'claimed'
        }
        const state = await liveState(db, key)
        if (state !== undefined) return state === 'done' ? 'done' : 'busy'
      }
      return 'busy'
    },
    async complete(key, ttl) {
      tokens.delete(key)
      await db.query(
        `INSERT INTO ${table} AS i (key, state, token, expires_at)
         VALUES ($1, 'done', NULL, clock_timestamp() + $2::float8 ${MS})
         ON CONFLICT (key) DO UPDATE SET state = 'done', token = NULL,
           expires_at = EXCLUDED.expires_at, updated_at = clock_timestamp()`,
        [key, ttl],
      )
    },
    async release(key) {
      const token = tokens.get(key)
      tokens.delete(key)
      // Only while the claim is still this store's: its lease may have run out and another
      // consumer claimed the event since.
      if (token !== undefined) {
        await db.query(`DELETE FROM ${table} WHERE key = $1 AND token = $2`, [key, token])
      }
    },
    async handle<R>(ctx: InboxContext, work: (tx: Queryable) => Promise<R> | R) {
      if (typeof work !== 'function') {
        throw new ConfigurationError('inbox.handle needs the work: (tx) => ...', {
          field: 'work',
        })
      }
      const key = keyOf(ctx)
      try {
        return await db.transaction(async (tx): Promise<R | Outcome> => {
          // A transaction-scoped advisory lock per key: a second consumer of the same event
          // waits at most retryDelayMs for it, instead of waiting on the row for as long as the
          // first takes. A consumer that dies loses its connection, and with it the lock.
          if (!(await lock(tx, key))) return busy()
          // The record goes in first: a claim of the non-transactional form waits on it until
          // this transaction ends, then finds it done (commit) or free (rollback).
          const { rows } = await tx.query(upsert('done'), [key, null, ttlMs])
          if (rows.length === 0) {
            return (await liveState(tx, key)) === 'done' ? duplicate() : busy()
          }
          const result = await work(tx)
          if (isOutcome(result) && (result.kind === 'retry' || result.kind === 'dead-letter')) {
            throw new Rollback(result)
          }
          return result
        })
      } catch (error) {
        if (error instanceof Rollback) return error.result as R
        throw error
      }
    },
    async prune(pruneOptions = {}) {
      const chunk = checkNumber(pruneOptions.chunkSize ?? 10_000, 'prune.chunkSize', {
        min: 1,
        integer: true,
      })
      let total = 0
      for (;;) {
        const { rows } = await db.query(
          `WITH gone AS (
             DELETE FROM ${table} WHERE key IN (
               SELECT key FROM ${table} WHERE expires_at <= clock_timestamp() LIMIT $1
             ) RETURNING 1
           ) SELECT count(*)::int AS n FROM gone`,
          [chunk],
        )
        const n = Number((rows[0] as { n: number | string }).n)
        total += n
        if (n < chunk) return total
      }
    },
  }

  /** Takes the key's lock, waiting up to retryDelayMs; false when it stayed taken. */
  async function lock(tx: Queryable, key: string): Promise<boolean> {
    const { rows } = await tx.query(
      `SELECT pg_try_advisory_xact_lock(${lockSpace}, hashtext($1)) AS ok`,
      [key],
    )
    if ((rows[0] as { ok: boolean } | undefined)?.ok === true) return true
    if (retryDelayMs < 1) return false
    // Contended, so rare: a bounded wait (lock_timeout), then the session's own timeout back
    // for the work's statements.
    const { rows: before } = await tx.query(`SELECT current_setting('lock_timeout') AS prev`)
    await tx.query(`SELECT set_config('lock_timeout', $1, true)`, [`${Math.ceil(retryDelayMs)}ms`])
    try {
      await tx.query(`SELECT pg_advisory_xact_lock(${lockSpace}, hashtext($1))`, [key])
    } catch (error) {
      // lock_not_available: the transaction is aborted, so leave through a rollback.
      if ((error as { code?: unknown }).code === '55P03') throw new Rollback(busy())
      throw error
    }
    await tx.query(`SELECT set_config('lock_timeout', $1, true)`, [
      (before[0] as { prev: string }).prev,
    ])
    return true
  }

  function busy(): Outcome {
    return { kind: 'retry', delayMs: retryDelayMs, error: undefined }
  }
}

function duplicate(): Outcome {
  return { kind: 'drop', reason: 'duplicate' }
}
