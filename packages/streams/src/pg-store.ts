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

/**
 * State in PostgreSQL: a row per key (version, JSON state) and an outbox table, written in one
 * transaction whose updates match on the version. Tables are created on first use.
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
  return {
    name: 'postgres',
    async load(stream, keys, ids) {
      await setup()
      const states = new Map<string, StoredKeyState>()
      const [found, taken] = await Promise.all([
        pool.query(
          `SELECT key, version, state::text AS state FROM ${state} WHERE stream = $1 AND key = ANY($2)`,
          [stream, keys],
        ),
        pool.query(
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
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        const fresh = change.entries.filter((e) => e.version === 0)
        const known = change.entries.filter((e) => e.version !== 0)
        if (fresh.length > 0) {
          const inserted = await client.query(
            `INSERT INTO ${state} (stream, key, version, state)
             SELECT $1, k, 1, s::jsonb FROM unnest($2::text[], $3::text[]) AS t(k, s)
             ON CONFLICT DO NOTHING`,
            [stream, fresh.map((e) => e.key), fresh.map((e) => encodeKeyState(e.state))],
          )
          if (inserted.rowCount !== fresh.length) return await rollback(client)
        }
        if (known.length > 0) {
          const updated = await client.query(
            `UPDATE ${state} AS x SET version = x.version + 1, state = t.s::jsonb
             FROM unnest($2::text[], $3::bigint[], $4::text[]) AS t(k, v, s)
             WHERE x.stream = $1 AND x.key = t.k AND x.version = t.v`,
            [
              stream,
              known.map((e) => e.key),
              known.map((e) => e.version),
              known.map((e) => encodeKeyState(e.state)),
            ],
          )
          if (updated.rowCount !== known.length) return await rollback(client)
        }
        if (change.outbox.length > 0) {
          await client.query(
            `INSERT INTO ${outbox} (stream, id, item)
             SELECT $1, i, j::jsonb FROM unnest($2::text[], $3::text[]) AS t(i, j)
             ON CONFLICT DO NOTHING`,
            [stream, change.outbox.map((o) => o.id), change.outbox.map((o) => JSON.stringify(o))],
          )
        }
        if (change.sent.length > 0) {
          await client.query(`DELETE FROM ${outbox} WHERE stream = $1 AND id = ANY($2)`, [
            stream,
            change.sent,
          ])
        }
        if (change.seen.length > 0) {
          await client.query(
            `INSERT INTO ${seenTable} (stream, id, until) SELECT $1, i, $3 FROM unnest($2::text[]) AS t(i)
             ON CONFLICT (stream, id) DO UPDATE SET until = excluded.until`,
            [stream, change.seen, Date.now() + change.dedupMs],
          )
        }
        const now = Date.now()
        if (now - (pruned.get(stream) ?? 0) > PRUNE_EVERY_MS) {
          pruned.set(stream, now)
          await client.query(`DELETE FROM ${seenTable} WHERE stream = $1 AND until < $2`, [
            stream,
            now,
          ])
        }
        await client.query('COMMIT')
        return true
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined)
        throw error
      } finally {
        client.release()
      }
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

async function rollback(client: PgStoreClient): Promise<false> {
  await client.query('ROLLBACK')
  return false
}
