import {
  ConfigurationError,
  createEvent,
  type EventEnvelope,
  type EventInput,
} from '@switchyard/core'
import { enqueue, type Queryable } from '@switchyard/outbox'
import type { StoreContext } from './context.js'
import {
  DuplicateEventError,
  type ExpectedVersion,
  StreamTenantError,
  WrongExpectedVersionError,
} from './errors.js'
import { aggregateOf, checkStreamId } from './names.js'
import { type RecordedEvent, toStoredJson } from './recorded.js'
import { APPEND_ERRORS } from './schema.js'

/** Options of `append`. */
export interface AppendOptions {
  /**
   * The stream's state this append was decided on: `'any'` (no check), `'no_stream'`,
   * `'exists'`, or its version (event count). @default 'any'
   */
  expectedVersion?: ExpectedVersion
  /**
   * The tenant the stream belongs to: set on its first append, refused on a stream of another
   * tenant, stamped as `tenantid` on events that carry none. @default the events' `tenantid`
   */
  tenant?: string
  /**
   * Your open transaction (a `pg` client inside `BEGIN`, PGlite's `tx`): the append, its outbox
   * rows and inline projections join it and commit or roll back with your own writes. The
   * append lock is held from the append until your commit, so commit soon after.
   */
  tx?: Queryable
}

/** What an append wrote. */
export interface AppendResult<T = unknown> {
  /** The stream's version after the append: pass it as the next `expectedVersion`. */
  nextExpectedVersion: number
  /** Global position of the last event appended. */
  position: number
  /** The events as stored, with their positions. */
  events: RecordedEvent<T>[]
  /** True when these event ids were appended before by the same append: nothing was written. */
  idempotent: boolean
}

function checkExpected(value: unknown): ExpectedVersion {
  if (value === 'any' || value === 'no_stream' || value === 'exists') return value
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value
  throw new ConfigurationError(
    `expectedVersion must be 'any', 'no_stream', 'exists' or a version (an integer >= 0), got ${JSON.stringify(value)}`,
    { field: 'expectedVersion' },
  )
}

/** Fills ids, time, source; the aggregate id as `subject` and `partitionkey`, its type as extension. */
function envelopes<T>(
  ctx: StoreContext,
  streamId: string,
  inputs: readonly EventInput<T>[],
  tenant: string | undefined,
): EventEnvelope<T>[] {
  const aggregate = aggregateOf(streamId)
  const defaults = ctx.source === undefined ? {} : { source: ctx.source }
  return inputs.map((input) => {
    const event = createEvent<T>(input, defaults)
    event.subject ??= aggregate.id
    event.partitionkey ??= aggregate.id
    if (tenant !== undefined) event.tenantid ??= tenant
    if (aggregate.type !== undefined && event.extensions?.aggregatetype === undefined) {
      event.extensions = { ...event.extensions, aggregatetype: aggregate.type }
    }
    return event
  })
}

function tenantOf(
  streamId: string,
  option: unknown,
  inputs: readonly EventInput[],
): string | undefined {
  if (option !== undefined && (typeof option !== 'string' || option.length === 0)) {
    throw new ConfigurationError('tenant must be a non-empty string', { field: 'tenant' })
  }
  const tenants = new Set(inputs.map((e) => e.tenantid).filter((t) => t !== undefined))
  if (option !== undefined) tenants.add(option as string)
  if (tenants.size > 1) {
    throw new ConfigurationError(
      `The events of one append to "${streamId}" name several tenants; a stream belongs to one`,
      { field: 'tenantid' },
    )
  }
  return [...tenants][0]
}

interface AppendRow {
  outcome: 'ok' | 'idempotent'
  version: string | number
  first_position: string | number | null
  tenant: string | null
}

/**
 * Appends in one transaction: the stream check and insert (one function call), the outbox rows,
 * the inline projections. Anything that throws rolls all of it back. With no outbox and no
 * inline projection the function call runs alone, one round trip.
 */
export async function append<T>(
  ctx: StoreContext,
  streamId: string,
  events: EventInput<T> | readonly EventInput<T>[],
  options: AppendOptions = {},
): Promise<AppendResult<T>> {
  checkStreamId(streamId)
  const expected = checkExpected(options.expectedVersion ?? 'any')
  const inputs = (Array.isArray(events) ? events : [events]) as readonly EventInput<T>[]
  if (inputs.length === 0) {
    throw new ConfigurationError('append needs at least one event', { field: 'events' })
  }
  const tenant = tenantOf(streamId, options.tenant, inputs)
  const list = envelopes(ctx, streamId, inputs, tenant)
  const ids = list.map((e) => e.id)
  if (new Set(ids).size !== ids.length) {
    throw new ConfigurationError(`The events of one append to "${streamId}" repeat an id`, {
      field: 'id',
    })
  }
  const aggregate = aggregateOf(streamId)
  const topic = ctx.outbox === undefined ? undefined : ctx.outbox.topicFor(streamId, aggregate)
  if (options.tx !== undefined && typeof options.tx?.query !== 'function') {
    throw new ConfigurationError('tx must be a client with query(text, params)', { field: 'tx' })
  }
  const run = <R>(fn: (tx: Queryable) => Promise<R>): Promise<R> => {
    if (options.tx !== undefined) return fn(options.tx)
    // Nothing else joins the append: its one statement is a transaction of its own.
    if (topic === undefined && !ctx.hasInline) return fn(ctx.driver)
    return ctx.driver.transaction(fn)
  }
  return run(async (tx) => {
    const row = await callAppend(tx, ctx, streamId, expected, tenant, topic, list)
    const version = Number(row.version)
    const first = Number(row.first_position)
    const streamTenant = row.tenant ?? undefined
    const recordedAt = new Date().toISOString()
    const recorded = list.map((event, i): RecordedEvent<T> => {
      if (streamTenant !== undefined) event.tenantid ??= streamTenant
      return {
        event,
        position: first + i,
        streamId,
        streamVersion: version - list.length + 1 + i,
        topic,
        recordedAt,
      }
    })
    const result = { nextExpectedVersion: version, position: first + list.length - 1 }
    if (row.outcome === 'idempotent') return { ...result, events: recorded, idempotent: true }
    if (ctx.outbox !== undefined && topic !== undefined) {
      await enqueue(tx, topic, list, { table: ctx.outbox.table })
    }
    await ctx.runInline(recorded as RecordedEvent[], tx)
    return { ...result, events: recorded, idempotent: false }
  })
}

async function callAppend(
  tx: Queryable,
  ctx: StoreContext,
  streamId: string,
  expected: ExpectedVersion,
  tenant: string | undefined,
  topic: string | undefined,
  list: EventEnvelope[],
): Promise<AppendRow> {
  const aggregate = aggregateOf(streamId)
  try {
    const { rows } = await tx.query(
      `SELECT * FROM ${ctx.names.append}($1, $2, $3, $4, $5, $6, $7::text::jsonb)`,
      [
        streamId,
        aggregate.type ?? null,
        aggregate.id,
        tenant ?? null,
        String(expected),
        topic ?? null,
        JSON.stringify(list.map(toStoredJson)),
      ],
    )
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
