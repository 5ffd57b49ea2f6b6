import type { Queryable } from './driver.js'
import { type MigrationTarget, tableNames } from './schema.js'

/**
 * The DDL of `migrateInbox()`, as one script. Exported for teams that keep SQL migrations in
 * files.
 * @throws {ConfigurationError} for a table name that is not a plain lower-case identifier.
 */
export function inboxMigrationSql(name = 'inbox'): string {
  const { table, base, lockSpace } = tableNames(name, 'inbox')
  // `key` is `${group}:${event id}` unless the store is given another key function. A `pending`
  // row is a claim of the non-transactional form (dedup({ store })), alive until `expires_at`; a
  // `done` row is a handled event, remembered until `expires_at`.
  return `
SELECT pg_advisory_xact_lock(${lockSpace}, -1);
CREATE TABLE IF NOT EXISTS ${table} (
  key text PRIMARY KEY,
  state text NOT NULL CHECK (state IN ('pending', 'done')),
  token text,
  expires_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS "${base}_expires" ON ${table} (expires_at);
`
}

/**
 * Creates the inbox table of `pgInboxStore` and its expiry index. Idempotent and safe to run from
 * several processes at once (an advisory lock serialises them), like `migrate()` for the outbox.
 * @example
 * await migrateInbox(pool)       // pg
 * await migrateInbox(db)         // PGlite
 * @throws when the database refuses the DDL (permissions, an incompatible existing table).
 */
export async function migrateInbox(
  db: MigrationTarget,
  options: { table?: string } = {},
): Promise<void> {
  const sql = inboxMigrationSql(options.table)
  if ('exec' in db && typeof db.exec === 'function') await db.exec(sql)
  else await (db as Queryable).query(sql)
}
