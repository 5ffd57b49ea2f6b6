import { ConfigurationError } from '@switchyard/core'
import type { Queryable } from './driver.js'

/** Number of ordering lanes: every (topic, partition key) hashes to one; see the README. */
export const LANES = 1024

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,39}$/

/** Names derived from the outbox table name. */
export interface TableNames {
  /** Quoted, possibly schema-qualified table name for SQL. */
  table: string
  /** Unquoted base name, prefix of the indexes, trigger and channel. */
  base: string
  /** Quoted schema prefix (`"app".`) or an empty string. */
  schema: string
  /** `LISTEN`/`NOTIFY` channel the insert trigger notifies. */
  channel: string
  /** Namespace (first key) of the relay's advisory locks. */
  lockSpace: number
}

/**
 * Validates a table name (`outbox` or `schema.outbox`, lower case; `kind` names the table in the
 * error) and derives the names of everything that belongs to it.
 * @throws {ConfigurationError} for a name that is not a plain lower-case identifier.
 */
export function tableNames(name = 'outbox', kind = 'outbox'): TableNames {
  const parts = typeof name === 'string' ? name.split('.') : []
  if (parts.length < 1 || parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) {
    throw new ConfigurationError(
      `Invalid ${kind} table ${JSON.stringify(name)}: use a lower-case identifier, optionally schema-qualified (app.${kind})`,
      { field: 'table' },
    )
  }
  const base = parts[parts.length - 1]!
  const schema = parts.length === 2 ? `"${parts[0]}".` : ''
  return {
    table: `${schema}"${base}"`,
    base,
    schema,
    channel: `${base}_ready`,
    lockSpace: fnv1a(name) | 0,
  }
}

/** 32-bit FNV-1a: a stable lock namespace per table, so two outboxes never share locks. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

/** The DDL of `migrate()`, as one script. Exported for teams that keep SQL migrations in files. */
export function migrationSql(name = 'outbox'): string {
  const { table, base, schema, channel, lockSpace } = tableNames(name)
  const pending = 'sent_at IS NULL AND parked_at IS NULL'
  return `
SELECT pg_advisory_xact_lock(${lockSpace}, -1);
CREATE TABLE IF NOT EXISTS ${table} (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL,
  topic text NOT NULL,
  partition_key text,
  lane integer GENERATED ALWAYS AS (
    CASE WHEN partition_key IS NULL THEN NULL
    ELSE hashtext(topic || '/' || partition_key) & ${LANES - 1} END
  ) STORED,
  headers jsonb NOT NULL,
  payload bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  available_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  sent_at timestamptz,
  parked_at timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS "${base}_id" ON ${table} (id);
CREATE INDEX IF NOT EXISTS "${base}_pending" ON ${table} (seq) WHERE ${pending};
CREATE INDEX IF NOT EXISTS "${base}_retrying" ON ${table} (available_at) WHERE ${pending} AND attempts > 0;
CREATE INDEX IF NOT EXISTS "${base}_sent" ON ${table} (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS "${base}_parked" ON ${table} (seq) WHERE parked_at IS NOT NULL;
CREATE OR REPLACE FUNCTION ${schema}"${base}_notify"() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM pg_notify('${channel}', '');
  RETURN NULL;
END
$fn$;
DO $do$
BEGIN
  -- Only when missing: re-creating it on every start would lock the table against the relays.
  IF NOT EXISTS (
    SELECT 1 FROM pg_trigger WHERE tgname = '${base}_notify' AND tgrelid = '${table}'::regclass
  ) THEN
    CREATE TRIGGER "${base}_notify" AFTER INSERT ON ${table}
      FOR EACH STATEMENT EXECUTE FUNCTION ${schema}"${base}_notify"();
  END IF;
END
$do$;
`
}

/** Something `migrate` can run a script on: a `pg` client or pool, or PGlite (which has `exec`). */
export type MigrationTarget = Queryable | { exec(sql: string): Promise<unknown> }

/**
 * Creates the outbox table, its indexes and the insert trigger that notifies relays. Idempotent
 * and safe to run from several processes at once (an advisory lock serialises them).
 * @example
 * await migrate(pool)            // pg
 * await migrate(db)              // PGlite
 * @throws when the database refuses the DDL (permissions, an incompatible existing table).
 */
export async function migrate(
  db: MigrationTarget,
  options: { table?: string } = {},
): Promise<void> {
  const sql = migrationSql(options.table)
  // A multi-statement script runs as one implicit transaction on one connection, so the advisory
  // lock covers every statement, even through a pool, without BEGIN/COMMIT of our own.
  if ('exec' in db && typeof db.exec === 'function') await db.exec(sql)
  else await (db as Queryable).query(sql)
}
