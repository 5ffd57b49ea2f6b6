import { ConfigurationError } from '@switchyard/core'
import {
  decodeKeyState,
  encodeKeyState,
  type OutboxItem,
  type StateStore,
  type StoredKeyState,
} from './store.js'

/** A query result as `pg` returns it. */
export interface PgResultLike {
  /** Rows. */
  rows: Record<string, unknown>[]
  /** Rows a write touched. */
  rowCount: number | null
}

/** The `pg` client calls the store makes. */
export interface PgStoreClient {
  /** Runs one statement. */
  query(text: string, params?: unknown[]): Promise<PgResultLike>
}

/** The `pg` pool calls the store makes; a `pg.Pool` has them. */
export interface PgStorePool extends PgStoreClient {
  /** Checks a client out, for a transaction. */
  connect(): Promise<PgStoreClient & { release(error?: Error | boolean): void }>
}

/** Options of `pgStore`. */
export interface PgStoreOptions {
  /** Your `pg.Pool`; it stays open when the store closes. */
  pool: PgStorePool
  /** Prefix of the tables (`<prefix>_state`, `_outbox`, `_seen`), created when missing. @default 'switchyard_stream' */
  tablePrefix?: string
}

const NAME = /^[a-z_][a-z0-9_]{0,40}$/
/** Forgotten ids are deleted at most this often per stream. */
const PRUNE_EVERY_MS = 10_000
/** SQLSTATE of the deliberate division by zero that refuses a commit. */
const DIVISION_BY_ZERO = '22012'

/**
 * State in PostgreSQL: a row per key (version, JSON state) and an outbox table, written by one
 * statement per batch whose updates match on the version. Tables are created on first use.
 * @example const store = pgStore({ pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }) })
 * @throws {ConfigurationError} without a pool or with a table prefix that is not a plain name.
 */
export function pgStore(options: PgStoreOptions): StateStore {
  const pool = options?.pool
  if (pool === undefined || typeof pool.connect !== 'function') {
    throw new ConfigurationError('pgStore needs { pool }: a pg.Pool', { field: 'pgStore.pool' })
  }
  const prefix = options.tablePrefix ?? 'switchyard_stream'
  if (!NAME.test(prefix)) {
    throw new ConfigurationError('pgStore.tablePrefix must be lower-case letters, digits and _', {
      field: 'pgStore.tablePrefix',
    })
  }
  const state = `${prefix}_state`
  const outbox = `${prefix}_outbox`
  const seenTable = `${prefix}_seen`
  const pruned = new Map<string, number>()
  let ready: Promise<void> | undefined
  const setup = () => {
    ready ??= pool
      .query(
        `CREATE TABLE IF NOT EXISTS ${state} (stream text NOT NULL, key text NOT NULL,
           version bigint NOT NULL, state jsonb NOT NULL, PRIMARY KEY (stream, key));
         CREATE TABLE IF NOT EXISTS ${outbox} (stream text NOT NULL, id text NOT NULL,
           item jsonb NOT NULL, PRIMARY KEY (stream, id));
         CREATE TABLE IF NOT EXISTS ${seenTable} (stream text NOT NULL, id text NOT NULL,
           until bigint NOT NULL, PRIMARY KEY (stream, id));
         CREATE INDEX IF NOT EXISTS ${seenTable}_until ON ${seenTable} (stream, until)`,
      )
      .then(
        () => undefined,
        (error: unknown) => {
          ready = undefined
          throw error
        },
      )
    return ready
  }
  // One statement per batch, atomic on its own: new keys inserted, known keys updated where the
  // version matches, taken ids recorded unless taken within their lifetime, the outbox written.
  // When a count falls short, the division by zero in the last line aborts the whole statement
  // (22012), which `commit` reports as a refusal.
  const commitSql = `WITH input AS (
      SELECT * FROM unnest($2::text[], $3::bigint[], $4::text[]) AS t(k, v, s)
    ), fresh AS (
      INSERT INTO ${state} (stream, key, version, state)
      SELECT $1, k, 1, s::jsonb FROM input WHERE v = 0
      ON CONFLICT DO NOTHING RETURNING 1
    ), known AS (
      UPDATE ${state} AS x SET version = x.version + 1, state = t.s::jsonb
      FROM input AS t WHERE t.v <> 0 AND x.stream = $1 AND x.key = t.k AND x.version = t.v
      RETURNING 1
    ), taken AS (
      INSERT INTO ${seenTable} AS x (stream, id, until)
      SELECT $1, i, $8 FROM unnest($7::text[]) AS t(i)
      ON CONFLICT (stream, id) DO UPDATE SET until = excluded.until WHERE x.until <= $9
      RETURNING 1
    ), queued AS (
      INSERT INTO ${outbox} (stream, id, item)
      SELECT $1, i, j::jsonb FROM unnest($5::text[], $6::text[]) AS t(i, j)
      ON CONFLICT DO NOTHING
    ), gone AS (
      DELETE FROM ${outbox} WHERE stream = $1 AND id = ANY($10::text[])
    )
    SELECT 1 / ((SELECT count(*) FROM fresh) + (SELECT count(*) FROM known) = $11
      AND (SELECT count(*) FROM taken) = $12)::int AS ok`
  return {
    name: 'postgres',
    checksSeen: true,
    async load(stream, keys, ids) {
      await setup()
      const states = new Map<string, StoredKeyState>()
      const none = { rows: [] as Record<string, unknown>[] }
      const [found, taken] = await Promise.all([
        keys.length === 0
          ? none
          : pool.query(
              `SELECT key, version, state::text AS state FROM ${state} WHERE stream = $1 AND key = ANY($2)`,
              [stream, keys],
            ),
        ids.length === 0
          ? none
          : pool.query(
              `SELECT id FROM ${seenTable} WHERE stream = $1 AND id = ANY($2) AND until > $3`,
              [stream, ids, Date.now()],
            ),
      ])
      for (const row of found.rows) {
        states.set(row.key as string, {
          version: Number(row.version),
          state: decodeKeyState(row.state as string),
        })
      }
      return { states, seen: new Set(taken.rows.map((row) => row.id as string)) }
    },
    async commit(stream, change) {
      await setup()
      const { entries, outbox: items, seen } = change
      const now = Date.now()
      try {
        await pool.query(commitSql, [
          stream,
          entries.map((e) => e.key),
          entries.map((e) => e.version),
          entries.map((e) => encodeKeyState(e.state)),
          items.map((o) => o.id),
          items.map((o) => JSON.stringify(o)),
          seen,
          now + change.dedupMs,
          now,
          change.sent,
          entries.length,
          seen.length,
        ])
      } catch (error) {
        if ((error as { code?: unknown }).code === DIVISION_BY_ZERO) return false
        throw error
      }
      if (now - (pruned.get(stream) ?? 0) > PRUNE_EVERY_MS) {
        pruned.set(stream, now)
        await pool.query(`DELETE FROM ${seenTable} WHERE stream = $1 AND until < $2`, [stream, now])
      }
      return true
    },
    async outbox(stream) {
      await setup()
      const { rows } = await pool.query(
        `SELECT item::text AS item FROM ${outbox} WHERE stream = $1`,
        [stream],
      )
      return rows.map((row) => JSON.parse(row.item as string) as OutboxItem)
    },
    async close() {},
  }
}
