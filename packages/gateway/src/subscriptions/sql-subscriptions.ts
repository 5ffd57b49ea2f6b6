import type {
  SubscriptionCounters,
  SubscriptionDefinition,
  SubscriptionRecord,
  SubscriptionStore,
} from './definition.js'

/**
 * Subscriptions in one table, `<prefix>_subscriptions`: the definition, the paused flag and the
 * counters every gateway process adds to. `(stream_id, broker_group)` is unique: two
 * subscriptions in one group would split the stream's events between them.
 */
export function sqlSubscriptions(
  db: { query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }> },
  prefix: string,
): SubscriptionStore & { migrate(): Promise<void> } {
  const table = `${prefix}_subscriptions`
  return {
    async migrate() {
      await db.query(`CREATE TABLE IF NOT EXISTS ${table} (
        id text PRIMARY KEY,
        definition jsonb NOT NULL,
        stream_id text NOT NULL,
        broker_group text NOT NULL,
        tenant text,
        paused boolean NOT NULL DEFAULT false,
        delivered bigint NOT NULL DEFAULT 0,
        failed bigint NOT NULL DEFAULT 0,
        dead_lettered bigint NOT NULL DEFAULT 0,
        last_error text,
        last_error_at timestamptz,
        last_delivery_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (stream_id, broker_group))`)
    },
    async list() {
      const { rows } = await db.query(`SELECT * FROM ${table} ORDER BY created_at, id`)
      return rows.map(recordOf)
    },
    async get(id) {
      const { rows } = await db.query(`SELECT * FROM ${table} WHERE id = $1`, [id])
      return rows[0] === undefined ? undefined : recordOf(rows[0])
    },
    async create(d) {
      const { paused, ...rest } = d
      const { rows } = await db.query(
        `INSERT INTO ${table} (id, definition, stream_id, broker_group, tenant, paused, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id`,
        [
          d.id,
          JSON.stringify(rest),
          d.streamId,
          d.brokerGroup,
          d.tenant ?? null,
          paused,
          d.createdAt,
        ],
      )
      return rows.length === 1
    },
    async setPaused(id, paused) {
      const { rows } = await db.query(
        `UPDATE ${table} SET paused = $2 WHERE id = $1 RETURNING id`,
        [id, paused],
      )
      return rows.length === 1
    },
    async delete(id) {
      const { rows } = await db.query(`DELETE FROM ${table} WHERE id = $1 RETURNING id`, [id])
      return rows.length === 1
    },
    async addCounters(id, delta) {
      await db.query(
        `UPDATE ${table} SET
           delivered = delivered + $2,
           failed = failed + $3,
           dead_lettered = dead_lettered + $4,
           last_error = CASE WHEN $6::timestamptz IS NOT NULL
             AND (last_error_at IS NULL OR $6::timestamptz >= last_error_at) THEN $5 ELSE last_error END,
           last_error_at = GREATEST(last_error_at, $6::timestamptz),
           last_delivery_at = GREATEST(last_delivery_at, $7::timestamptz)
         WHERE id = $1`,
        [
          id,
          delta.delivered,
          delta.failed,
          delta.deadLettered,
          delta.lastError ?? null,
          delta.lastErrorAt ?? null,
          delta.lastDeliveryAt ?? null,
        ],
      )
    },
  }
}

type Row = Record<string, unknown>

function isoOrUndefined(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString()
}

function recordOf(raw: unknown): SubscriptionRecord {
  const row = raw as Row
  const stored =
    typeof row.definition === 'string' ? JSON.parse(row.definition) : (row.definition as object)
  const definition = { ...(stored as Omit<SubscriptionDefinition, 'paused'>) }
  // JSON drops undefined members; the type wants them present.
  definition.tenant ??= undefined
  definition.webhookUrl ??= undefined
  definition.createdBy ??= undefined
  const counters: SubscriptionCounters = {
    delivered: Number(row.delivered),
    failed: Number(row.failed),
    deadLettered: Number(row.dead_lettered),
    lastError: (row.last_error as string | null) ?? undefined,
    lastErrorAt: isoOrUndefined(row.last_error_at),
    lastDeliveryAt: isoOrUndefined(row.last_delivery_at),
  }
  return { ...definition, paused: row.paused === true, counters }
}
