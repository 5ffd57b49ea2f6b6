import {
  ConfigurationError,
  createEvent,
  type EventEnvelope,
  type EventInput,
} from '@switchyard/core'
import { enqueue, type Queryable } from '@switchyard/outbox'
import { callAppend, outboxInStatement } from './append-sql.js'
import type { StoreContext } from './context.js'
import type { ExpectedVersion } from './errors.js'
import { type AggregateRef, aggregateOf, checkStreamId } from './names.js'
import type { RecordedEvent } from './recorded.js'

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
  aggregate: AggregateRef,
  inputs: readonly EventInput<T>[],
  tenant: string | undefined,
): EventEnvelope<T>[] {
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
  if (inputs.length === 1) {
    const own = inputs[0]!.tenantid
    if (own === undefined || option === undefined || own === option) return own ?? option
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

/**
 * Appends in one transaction: the stream check and insert (one function call), the outbox rows,
 * the inline projections. Anything that throws rolls all of it back. With no inline projection
 * and no transaction of the caller's, on `pg` the append is one statement with its outbox rows
 * (one round trip, its own transaction); on PGlite, one statement when publishing is off.
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
  const aggregate = aggregateOf(streamId)
  const list = envelopes(ctx, aggregate, inputs, tenant)
  if (list.length > 1 && new Set(list.map((e) => e.id)).size !== list.length) {
    throw new ConfigurationError(`The events of one append to "${streamId}" repeat an id`, {
      field: 'id',
    })
  }
  const topic = ctx.outbox === undefined ? undefined : ctx.outbox.topicFor(streamId, aggregate)
  if (options.tx !== undefined && typeof options.tx?.query !== 'function') {
    throw new ConfigurationError('tx must be a client with query(text, params)', { field: 'tx' })
  }
  // A caller's own tx may be any client: only the driver's own `pg` connections take named
  // statements, and array parameters for the outbox rows in the append's statement.
  const prepared = options.tx === undefined ? ctx.prepared : undefined
  const outboxTable =
    prepared !== undefined && !ctx.hasInline && ctx.outbox !== undefined
      ? outboxInStatement(ctx.outbox.table, topic)
      : undefined
  // Nothing else joins the append: its one statement is a transaction of its own.
  const alone =
    options.tx === undefined && !ctx.hasInline && (topic === undefined || outboxTable !== undefined)
  const run = <R>(fn: (tx: Queryable) => Promise<R>): Promise<R> => {
    if (options.tx !== undefined) return fn(options.tx)
    if (alone) return fn(ctx.driver)
    return ctx.driver.transaction(fn)
  }
  return run(async (tx) => {
    const lookup = !alone
    const call = {
      streamId,
      aggregate,
      expected,
      tenant,
      topic,
      list,
      lookup,
      prepared,
      outboxTable,
    }
    const answer = await callAppend(tx, ctx, call)
    const { version, firstPosition: first, tenant: streamTenant } = answer
    const recordedAt = new Date().toISOString()
    const base = version - list.length + 1
    const recorded = list.map((event, i): RecordedEvent<T> => {
      if (streamTenant !== undefined) event.tenantid ??= streamTenant
      return { event, position: first + i, streamId, streamVersion: base + i, topic, recordedAt }
    })
    const idempotent = answer.outcome === 'idempotent'
    if (!idempotent) {
      if (ctx.outbox !== undefined && topic !== undefined && outboxTable === undefined) {
        await enqueue(tx, topic, list, { table: ctx.outbox.table })
      }
      await ctx.runInline(recorded as RecordedEvent[], tx)
    }
    return {
      nextExpectedVersion: version,
      position: first + list.length - 1,
      events: recorded,
      idempotent,
    }
  })
}
