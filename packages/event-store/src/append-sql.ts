import { binaryCodec, type EventEnvelope } from '@switchyard/core'
import type { Queryable } from '@switchyard/outbox'
import type { StoreContext } from './context.js'
import {
  DuplicateEventError,
  type ExpectedVersion,
  StreamTenantError,
  WrongExpectedVersionError,
} from './errors.js'
import type { AggregateRef } from './names.js'
import { queryPrepared } from './prepared.js'
import { toStoredJson } from './recorded.js'
import { APPEND_ERRORS } from './schema.js'

/** What the append function answered. */
export interface AppendAnswer {
  outcome: 'ok' | 'idempotent'
  /** The stream's version after the append. */
  version: number
  /** Position of the append's first event. */
  firstPosition: number
  /** The stream's tenant, if it has one. */
  tenant: string | undefined
}

/** Reads the function's `<outcome> <version> <first position>[ <stream tenant>]`. */
export function parseAnswer(text: string): AppendAnswer {
  const a = text.indexOf(' ')
  const b = text.indexOf(' ', a + 1)
  const c = text.indexOf(' ', b + 1)
  return {
    outcome: text.slice(0, a) as AppendAnswer['outcome'],
    version: Number(text.slice(a + 1, b)),
    firstPosition: Number(c < 0 ? text.slice(b + 1) : text.slice(b + 1, c)),
    // The tenant is the rest, spaces and all.
    tenant: c < 0 ? undefined : text.slice(c + 1),
  }
}

/** What one append statement writes. */
export interface AppendCall {
  streamId: string
  aggregate: AggregateRef
  expected: ExpectedVersion
  tenant: string | undefined
  topic: string | undefined
  list: EventEnvelope[]
  /**
   * Look the ids up before inserting. Without it a stored id fails the insert, and the call is
   * repeated with it: only for a call that is a transaction of its own.
   */
  lookup: boolean
  /** Prefix of the prepared statements' names; undefined: plain text. */
  prepared: string | undefined
  /** The quoted outbox table when its rows go in the same statement (one round trip, no BEGIN ... COMMIT). */
  outboxTable: string | undefined
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
  t AS (SELECT substring(a.r FROM '^\\S+ \\S+ \\S+ (.*)$') AS tenant FROM a WHERE a.r LIKE 'ok %'),
  o AS (
    INSERT INTO ${table} (id, topic, partition_key, headers, payload)
    SELECT x.id, $9, x.key,
           CASE WHEN t.tenant IS NULL OR x.headers::jsonb ? 'ce_tenantid' THEN x.headers::jsonb
                ELSE x.headers::jsonb || jsonb_build_object('ce_tenantid', t.tenant) END,
           x.payload
      FROM t, unnest($10::text[], $11::text[], $12::text[], $13::bytea[]) AS x(id, key, headers, payload)
    ON CONFLICT (id) DO NOTHING
  )
SELECT a.r FROM a`
}

/** Runs the append function (and, with `outboxTable`, the outbox insert); maps its refusals. */
export async function callAppend(
  tx: Queryable,
  ctx: StoreContext,
  call: AppendCall,
): Promise<AppendAnswer> {
  const { streamId, aggregate, expected, tenant, topic, list, outboxTable } = call
  const append = `SELECT ${ctx.names.append}($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8) AS r`
  const values: unknown[] = [
    streamId,
    aggregate.type ?? null,
    aggregate.id,
    tenant ?? null,
    String(expected),
    topic ?? null,
    JSON.stringify(list.map(toStoredJson)),
    call.lookup,
  ]
  let text = append
  let name = call.prepared === undefined ? undefined : `${call.prepared}_append`
  if (outboxTable !== undefined) {
    text = outboxStatement(append, outboxTable)
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
    return parseAnswer((rows[0] as { r: string }).r)
  } catch (error) {
    const { code, detail } = error as { code?: string; detail?: string }
    if (code === APPEND_ERRORS.conflict) {
      throw new WrongExpectedVersionError(streamId, expected, Number(detail))
    }
    if (code === APPEND_ERRORS.tenant) throw new StreamTenantError(streamId, tenant!)
    // 23505: an id is stored already. Without the lookup, the call undid itself: repeat it with
    // the lookup, which tells an idempotent repeat from a refusal. With it, a concurrent archive
    // of one of these ids committed between the lookup and the insert.
    if (code === '23505' && !call.lookup) return callAppend(tx, ctx, { ...call, lookup: true })
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
