import { sqlSubscriptions } from '../subscriptions/sql-subscriptions.js'
import type { StateStore, StoredSchema, StreamDefinition } from './store.js'

/** One SQL statement with positional parameters: a `pg` Pool or a PGlite instance. */
export interface SqlClient {
  /** Runs one statement; `params` fill `$1`, `$2`, ... */
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>
}

/** Options of `sqlStateStore`. */
export interface SqlStateStoreOptions {
  /** The database. */
  client: SqlClient
  /** `pglite` or `postgres`. */
  kind: string
  /** Prefix of the table names, so several gateways can share one database. @default 'switchyard_gateway' */
  tablePrefix?: string
  /** Closes the client, when the store opened it. */
  close?: () => Promise<void>
}

const PREFIX = /^[a-z_][a-z0-9_]{0,40}$/

/**
 * The state store over PostgreSQL or PGlite: tables `<prefix>_streams`, `<prefix>_schemas` and
 * `<prefix>_subscriptions`.
 * @throws {Error} for a table prefix that is not a plain SQL identifier.
 */
export function sqlStateStore(options: SqlStateStoreOptions): StateStore {
  const prefix = options.tablePrefix ?? 'switchyard_gateway'
  if (!PREFIX.test(prefix)) throw new Error(`tablePrefix must match ${PREFIX}, got "${prefix}"`)
  const streams = `${prefix}_streams`
  const schemas = `${prefix}_schemas`
  const db = options.client
  const subscriptions = sqlSubscriptions(db, prefix)
  return {
    kind: options.kind,
    subscriptions,
    async migrate() {
      await db.query(`CREATE TABLE IF NOT EXISTS ${streams} (
        id text PRIMARY KEY,
        description text,
        partitions integer NOT NULL DEFAULT 1,
        retention_ms bigint,
        compression text,
        cleanup_policy text,
        created_at timestamptz NOT NULL DEFAULT now(),
        created_by text)`)
      await db.query(`CREATE TABLE IF NOT EXISTS ${schemas} (
        event_type text NOT NULL,
        version integer NOT NULL,
        schema jsonb NOT NULL,
        description text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (event_type, version))`)
      await subscriptions.migrate()
    },
    async listStreams() {
      const { rows } = await db.query(`SELECT * FROM ${streams} ORDER BY id`)
      return rows.map(streamOf)
    },
    async getStream(id) {
      const { rows } = await db.query(`SELECT * FROM ${streams} WHERE id = $1`, [id])
      return rows[0] === undefined ? undefined : streamOf(rows[0])
    },
    async createStream(s) {
      const { rows } = await db.query(
        `INSERT INTO ${streams} (id, description, partitions, retention_ms, compression,
           cleanup_policy, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING RETURNING id`,
        [
          s.id,
          s.description ?? null,
          s.partitions,
          s.retentionMs ?? null,
          s.compression ?? null,
          s.cleanupPolicy ?? null,
          s.createdAt,
          s.createdBy ?? null,
        ],
      )
      return rows.length === 1
    },
    async listSchemas() {
      const { rows } = await db.query(`SELECT * FROM ${schemas} ORDER BY event_type, version`)
      return rows.map(schemaOf)
    },
    async addSchema(s) {
      const { rows } = await db.query(
        `INSERT INTO ${schemas} (event_type, version, schema, description, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING version`,
        [s.eventType, s.version, JSON.stringify(s.schema), s.description ?? null, s.createdAt],
      )
      return rows.length === 1
    },
    async health() {
      try {
        await db.query('SELECT 1')
        return { status: 'up' }
      } catch (error) {
        return { status: 'down', detail: (error as Error).message }
      }
    },
    close: options.close ?? (async () => undefined),
  }
}

type Row = Record<string, unknown>

function iso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString()
}

function optional<T>(value: T | null | undefined): T | undefined {
  return value === null ? undefined : value
}

function streamOf(raw: unknown): StreamDefinition {
  const row = raw as Row
  const retention = optional(row.retention_ms as string | number | null)
  return {
    id: String(row.id),
    description: optional(row.description as string | null),
    partitions: Number(row.partitions),
    retentionMs: retention === undefined ? undefined : Number(retention),
    compression: optional(row.compression as string | null),
    cleanupPolicy: optional(row.cleanup_policy as string | null),
    createdAt: iso(row.created_at),
    createdBy: optional(row.created_by as string | null),
  }
}

function schemaOf(raw: unknown): StoredSchema {
  const row = raw as Row
  const schema = typeof row.schema === 'string' ? JSON.parse(row.schema) : row.schema
  return {
    eventType: String(row.event_type),
    version: Number(row.version),
    schema,
    description: optional(row.description as string | null),
    createdAt: iso(row.created_at),
  }
}
