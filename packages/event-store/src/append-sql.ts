import { binaryCodec, type EventEnvelope } from '@switchyard/core'
import type { Queryable } from '@switchyard/outbox'
import type { StoreContext } from './context.js'
import {
  DuplicateEventError,
  type ExpectedVersion,
  StreamTenantError,
  WrongExpectedVersionError,
} from './errors.js'
import { aggregateOf } from './names.js'
import { queryPrepared } from './prepared.js'
import { toStoredJson } from './recorded.js'
import { APPEND_ERRORS } from './schema.js'

/** The append function's row. */
export interface AppendRow {
  outcome: 'ok' | 'idempotent'
  version: string | number
  first_position: string | number | null
  tenant: string | null
}

/** What one append statement writes. */
export interface AppendCall {
  streamId: string
  expected: ExpectedVersion
  tenant: string | undefined
  topic: string | undefined
  list: EventEnvelope[]
  /** Prefix of the prepared statements' names; undefined: plain text. */
  prepared: string | undefined
  /** Write the outbox rows in the same statement (one round trip, no BEGIN ... COMMIT). */
  withOutbox: boolean
}

const codec = binaryCodec()
// The outbox's own rules for its table names and topics (`enqueue` checks them the same way).
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,39}$/
const TOPIC = /^[A-Za-z0-9._\-~:/@]{1,249}$/u

/**
 * The outbox table quoted, or undefined for a name or topic `enqueue` would refuse (the append
 * then goes through `enqueue`, which says why).
 */
export function outboxInStatement(table: string, topic: string | undefined): string | undefined {
  const parts = table.split('.')
  if (topic === undefined || !TOPIC.test(topic)) return undefined
  if (parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) return undefined
  return parts.map((p) => `"${p}"`).join('.')
}

// The rows `enqueue` writes (id, topic, partition key, binary-mode headers, payload), stamped
// with the stream's tenant when the events carry none, as the append stamps the stored events;
// nothing for an idempotent repeat. One statement: the function's refusal undoes both.
function outboxStatement(append: string, table: string): string {
  return `WITH a AS MATERIALIZED (${append}),
  o AS (
    INSERT INTO ${table} (id, topic, partition_key, headers, payload)
    SELECT x.id, $8, x.key,
           CASE WHEN a.tenant IS NULL OR x.headers::jsonb ? 'ce_tenantid' THEN x.headers::jsonb
                ELSE x.headers::jsonb || jsonb_build_object('ce_tenantid', a.tenant) END,
           x.payload
      FROM a, unnest($9::text[], $10::text[], $11::text[], $12::bytea[]) AS x(id, key, headers, payload)
     WHERE a.outcome = 'ok'
    ON CONFLICT (id) DO NOTHING
  )
SELECT * FROM a`
}

/** Runs the append function (and, with `withOutbox`, the outbox insert); maps its refusals. */
export async function callAppend(
  tx: Queryable,
  ctx: StoreContext,
  call: AppendCall,
): Promise<AppendRow> {
  const { streamId, expected, tenant, topic, list } = call
  const aggregate = aggregateOf(streamId)
  const append = `SELECT * FROM ${ctx.names.append}($1, $2, $3, $4, $5, $6, $7::text::jsonb)`
  const values: unknown[] = [
    streamId,
    aggregate.type ?? null,
    aggregate.id,
    tenant ?? null,
    String(expected),
    topic ?? null,
    JSON.stringify(list.map(toStoredJson)),
  ]
  let text = append
  let name = call.prepared === undefined ? undefined : `${call.prepared}_append`
  const table = call.withOutbox ? outboxInStatement(ctx.outbox!.table, topic) : undefined
  if (table !== undefined) {
    text = outboxStatement(append, table)
    name &&= `${name}_outbox`
    const keys: (string | null)[] = []
    const headers: string[] = []
    const payloads: Uint8Array[] = []
    for (const event of list) {
      const encoded = codec.encode(event)
      keys.push(event.partitionkey ?? null)
      headers.push(JSON.stringify(encoded.headers))
      payloads.push(encoded.body)
    }
    values.push(
      topic,
      list.map((e) => e.id),
      keys,
      headers,
      payloads,
    )
  }
  try {
    const { rows } = await queryPrepared(tx, name, text, values)
    return rows[0] as AppendRow
  } catch (error) {
    const { code, detail } = error as { code?: string; detail?: string }
    if (code === APPEND_ERRORS.conflict) {
      throw new WrongExpectedVersionError(streamId, expected, Number(detail))
    }
    if (code === APPEND_ERRORS.tenant) throw new StreamTenantError(streamId, tenant!)
    // 23505: a concurrent archive of one of these ids committed between the check and the insert.
    if (code === APPEND_ERRORS.duplicate || code === '23505') {
      throw new DuplicateEventError(
        streamId,
        list.map((e) => e.id),
        error,
      )
    }
    throw error
  }
}
