import type { Queryable } from '@switchyard/outbox'
import { type StoreNames, storeNames } from './names.js'

/** The columns of an event row as the readers select them. */
export const EVENT_COLUMNS =
  'e.position, e.stream_id, e.stream_version, e.topic, e.envelope, ' +
  // Whole milliseconds: parsing a timestamptz in the client costs more than the JSON, and
  // date_part's float avoids extract's numeric arithmetic.
  "floor(date_part('epoch', e.recorded_at) * 1000)::int8 AS recorded_ms"

/** SQLSTATEs the append function raises: the whole statement (and transaction) is undone. */
export const APPEND_ERRORS = {
  conflict: 'SY409',
  tenant: 'SY403',
  duplicate: 'SY422',
} as const

/**
 * The DDL of the event store as one script: tables, indexes and the two notifying
 * write functions. Exported for teams that keep SQL migrations in files.
 * @throws {ConfigurationError} for an invalid schema name.
 */
export function eventStoreMigrationSql(schema = 'event_store'): string {
  const n = storeNames(schema)
  const s = `"${n.schema}"`
  return `
SELECT pg_advisory_xact_lock(${n.lockSpace}, -1);
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${n.head} (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  position bigint NOT NULL
);
INSERT INTO ${n.head} (singleton, position) VALUES (true, 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS ${n.streams} (
  stream_id text PRIMARY KEY,
  stream_type text,
  tenant text,
  version bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ${n.events} (
  position bigint PRIMARY KEY,
  id text NOT NULL,
  stream_id text,
  stream_version bigint,
  tenant text,
  type text NOT NULL,
  source text NOT NULL,
  subject text,
  time timestamptz NOT NULL,
  aggregate_type text,
  aggregate_id text,
  topic text,
  envelope jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS events_id ON ${n.events} (id);
CREATE UNIQUE INDEX IF NOT EXISTS events_stream ON ${n.events} (stream_id, stream_version)
  WHERE stream_id IS NOT NULL;
-- Partial: a store without tenants pays nothing for it (a tenant filter implies NOT NULL).
CREATE INDEX IF NOT EXISTS events_tenant ON ${n.events} (tenant, position) WHERE tenant IS NOT NULL;
CREATE TABLE IF NOT EXISTS ${n.checkpoints} (
  name text PRIMARY KEY,
  position bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ${n.snapshots} (
  stream_id text NOT NULL,
  name text NOT NULL,
  version bigint NOT NULL,
  state jsonb,
  taken_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, name)
);
-- The write functions notify themselves (cheaper than a trigger); earlier versions had one.
DROP TRIGGER IF EXISTS events_notify ON ${n.events};
DROP FUNCTION IF EXISTS ${s}.notify_appended();
-- Earlier versions appended through append_events (a probe before every insert, four columns
-- back); it is left for processes of those versions still running, and no longer used.
${appendFunction(n)}
${recordFunction(n)}
`
}

// Every write takes the head row's lock just before its insert and keeps it until it commits, so
// positions are handed out in commit order: a reader that sees position p sees every position
// below p, and a transaction that commits late cannot leave a hole behind a reader's checkpoint.
// Statements inside a PL/pgSQL function each take a fresh snapshot under READ COMMITTED, so the
// checks after a lock wait see what the writer before committed. A refused append raises, so the
// call undoes its own writes even when it runs alone, outside BEGIN ... COMMIT.
//
// The usual append runs four statements: the stream row's UPDATE (its lock and version), the
// head's UPDATE, a plain INSERT and NOTIFY. Ids stored already are looked up first only when the
// version does not match (to tell an idempotent repeat from a conflict) or when `p_lookup` asks:
// otherwise the id index finds them, and its unique violation undoes the call, which the client
// repeats with `p_lookup` (it does so only for a call that is its own transaction; in a longer
// transaction the error would abort it, so those calls look up first). The answer is one text
// value, `<outcome> <version> <first position>[ <stream tenant>]`: a scalar result skips the
// function scan and row type an OUT-parameter function costs each call.
function appendFunction(n: StoreNames): string {
  const insert = (
    rows: string,
  ) => `INSERT INTO ${n.events} (position, id, stream_id, stream_version,
    tenant, type, source, subject, time, aggregate_type, aggregate_id, topic, envelope) ${rows}`
  const row = (ev: string, o: string) => `v_head + ${o}, ${ev}->>'id', p_stream, v_version + ${o},
    v_tenant, ${ev}->>'type', ${ev}->>'source', ${ev}->>'subject', (${ev}->>'time')::timestamptz,
    p_stream_type, p_aggregate_id, p_topic,
    CASE WHEN v_tenant IS NULL OR ${ev} ? 'tenantid' THEN ${ev}
         ELSE ${ev} || jsonb_build_object('tenantid', v_tenant) END`
  const answer = (outcome: string, version: string, first: string) =>
    `'${outcome} ' || (${version}) || ' ' || (${first}) || coalesce(' ' || v_tenant, '')`
  return `CREATE OR REPLACE FUNCTION ${n.append}(
  p_stream text, p_stream_type text, p_aggregate_id text, p_tenant text, p_expected text,
  p_topic text, p_events jsonb, p_lookup boolean
) RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
  v_count bigint := jsonb_array_length(p_events);
  v_one jsonb;
  v_version bigint;
  v_tenant text;
  v_match boolean;
  v_head bigint;
  v_found bigint := 0;
  v_same bigint;
  v_lo bigint;
  v_hi bigint;
  v_first bigint;
BEGIN
  -- The stream's row: locked and moved on in one statement; a refusal below raises, which undoes it.
  UPDATE ${n.streams} s SET version = s.version + v_count, updated_at = now()
   WHERE s.stream_id = p_stream RETURNING s.version - v_count, s.tenant INTO v_version, v_tenant;
  IF NOT FOUND THEN
    INSERT INTO ${n.streams} (stream_id, stream_type, tenant, version)
      VALUES (p_stream, p_stream_type, p_tenant, v_count) ON CONFLICT (stream_id) DO NOTHING;
    IF FOUND THEN
      v_version := 0;
      v_tenant := p_tenant;
    ELSE
      UPDATE ${n.streams} s SET version = s.version + v_count, updated_at = now()
       WHERE s.stream_id = p_stream RETURNING s.version - v_count, s.tenant
        INTO v_version, v_tenant;
    END IF;
  END IF;
  IF p_tenant IS NOT NULL AND v_tenant IS DISTINCT FROM p_tenant THEN
    RAISE EXCEPTION 'stream belongs to another tenant' USING ERRCODE = 'SY403';
  END IF;
  v_match := CASE p_expected WHEN 'any' THEN true WHEN 'no_stream' THEN v_version = 0
    WHEN 'exists' THEN v_version > 0 ELSE v_version = p_expected::bigint END;
  IF (p_lookup OR NOT v_match) AND v_count = 1 THEN
    SELECT 1, (d.stream_id IS NOT DISTINCT FROM p_stream)::int, d.stream_version - 1,
           d.stream_version - 1, d.position
      INTO v_found, v_same, v_lo, v_hi, v_first
      FROM ${n.events} d WHERE d.id = p_events->0->>'id';
    IF NOT FOUND THEN
      v_found := 0;
    END IF;
  ELSIF p_lookup OR NOT v_match THEN
    -- Which ids are stored, where. LIMIT keeps the lookup a per-id probe of the unique index: a
    -- join the planner could flatten would be planned once, on a small table, as a full scan.
    SELECT count(*), count(*) FILTER (WHERE e.stream_id = p_stream),
           min(e.stream_version - x.o), max(e.stream_version - x.o), min(e.position)
      INTO v_found, v_same, v_lo, v_hi, v_first
      FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(ev, o)
      CROSS JOIN LATERAL (
        SELECT d.stream_id, d.stream_version, d.position FROM ${n.events} d
         WHERE d.id = x.ev->>'id' LIMIT 1
      ) e;
  END IF;
  IF v_match AND v_found = 0 THEN
    UPDATE ${n.head} h SET position = h.position + v_count RETURNING h.position - v_count INTO v_head;
    IF v_count = 1 THEN
      v_one := p_events->0;
      ${insert(`VALUES (${row('v_one', '1')})`)};
    ELSE
      ${insert(`SELECT ${row('x.ev', 'x.o')}
        FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(ev, o)`)};
    END IF;
    NOTIFY "${n.channel}";
    RETURN ${answer('ok', 'v_version + v_count', 'v_head + 1')};
  END IF;
  IF v_found = 0 THEN
    RAISE EXCEPTION 'wrong expected version' USING ERRCODE = 'SY409', DETAIL = v_version::text;
  END IF;
  -- A repeat of an earlier append: all of its ids, in this stream, in order, at a version the
  -- expected one allows. Anything else with stored ids is refused.
  IF v_found = v_count AND v_same = v_count AND v_lo = v_hi THEN
    IF p_expected = 'any' OR p_expected = 'exists'
       OR (p_expected = 'no_stream' AND v_lo = 0) OR p_expected = v_lo::text THEN
      -- Written before by this same append: give the version back, write nothing.
      UPDATE ${n.streams} s SET version = v_version WHERE s.stream_id = p_stream;
      RETURN ${answer('idempotent', 'v_lo + v_count', 'v_first')};
    END IF;
    RAISE EXCEPTION 'wrong expected version' USING ERRCODE = 'SY409', DETAIL = v_version::text;
  END IF;
  RAISE EXCEPTION 'event ids stored already' USING ERRCODE = 'SY422';
END
$fn$;`
}

function recordFunction(n: StoreNames): string {
  return `CREATE OR REPLACE FUNCTION ${n.record}(p_topic text, p_events jsonb)
RETURNS TABLE (recorded bigint, first_position bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_head bigint;
  v_count bigint;
BEGIN
  SELECT h.position INTO v_head FROM ${n.head} h FOR UPDATE;
  INSERT INTO ${n.events} (position, id, stream_id, stream_version, tenant, type, source, subject,
                           time, aggregate_type, aggregate_id, topic, envelope)
  SELECT v_head + row_number() OVER (ORDER BY x.o), x.ev->>'id', NULL, NULL, x.ev->>'tenantid',
         x.ev->>'type', x.ev->>'source', x.ev->>'subject', (x.ev->>'time')::timestamptz,
         x.ev->'extensions'->>'aggregatetype',
         CASE WHEN x.ev->'extensions' ? 'aggregatetype' THEN x.ev->>'subject' END,
         p_topic, x.ev
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(ev, o)
    LEFT JOIN LATERAL (
      SELECT true AS stored FROM ${n.events} d WHERE d.id = x.ev->>'id' LIMIT 1
    ) e ON true
   WHERE e.stored IS NULL;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  UPDATE ${n.head} SET position = v_head + v_count;
  IF v_count > 0 THEN
    PERFORM pg_notify('${n.channel}', '');
  END IF;
  RETURN QUERY SELECT v_count, v_head + 1;
END
$fn$;`
}

/** Something `migrateEventStore` can run a script on: a `pg` client or pool, PGlite, a driver. */
export type EventStoreMigrationTarget = Queryable | { exec(sql: string): Promise<unknown> }

/**
 * Creates the event store's schema, tables, trigger and functions. Idempotent and safe to run
 * from several processes at once (an advisory lock serialises them).
 * @example
 * await migrateEventStore(pool, { schema: 'event_store' })
 * @throws when the database refuses the DDL (permissions, an incompatible existing table).
 */
export async function migrateEventStore(
  db: EventStoreMigrationTarget,
  options: { schema?: string } = {},
): Promise<void> {
  const sql = eventStoreMigrationSql(options.schema)
  // One multi-statement script runs as one implicit transaction on one connection, so the
  // advisory lock covers every statement.
  if ('exec' in db && typeof db.exec === 'function') await db.exec(sql)
  else await (db as Queryable).query(sql)
}
