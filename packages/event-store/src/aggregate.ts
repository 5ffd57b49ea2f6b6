import { ConfigurationError } from '@switchyard/core'
import { checkNumber } from '@switchyard/core/transport'
import type { StoreContext } from './context.js'
import { readStream } from './read.js'
import type { RecordedEvent } from './recorded.js'

/** How `aggregateStream` keeps and uses snapshots of a stream's state. */
export interface SnapshotOptions {
  /** Names the state kind; change it when `evolve` changes, so old snapshots are not used. */
  name: string
  /** Store a snapshot when this many events were folded since the last one. @default never */
  every?: number
}

/** Options of `aggregateStream`. */
export interface AggregateOptions<S, T = unknown> {
  /** Folds one event into the state; pure, so a rebuild gives the same state. */
  evolve: (state: S, event: RecordedEvent<T>) => S
  /** The state before the first event (a function, so no call shares a mutable object). */
  initialState: () => S
  /** Read only when the stream belongs to this tenant. */
  tenant?: string
  /** Start from the latest snapshot of this name, and store one every N events. */
  snapshot?: SnapshotOptions
}

/** An aggregate's state rebuilt from its events. */
export interface AggregateResult<S> {
  /** The folded state. */
  state: S
  /** The stream's version the state reflects: pass it as `expectedVersion` when appending. */
  version: number
  /** Whether the stream exists (for the tenant asked). */
  exists: boolean
  /** The version of the snapshot the fold started from, 0 when it started from `initialState`. */
  fromSnapshot: number
}

const PAGE = 1_000

function checkAggregate(options: AggregateOptions<unknown, unknown>): void {
  if (typeof options?.evolve !== 'function' || typeof options.initialState !== 'function') {
    throw new ConfigurationError(
      'aggregateStream needs { evolve: (state, event) => state, initialState: () => state }',
      { field: 'evolve' },
    )
  }
  const snapshot = options.snapshot
  if (snapshot === undefined) return
  if (typeof snapshot.name !== 'string' || snapshot.name.length === 0) {
    throw new ConfigurationError('snapshot.name must be a non-empty string', {
      field: 'snapshot.name',
    })
  }
  if (snapshot.every !== undefined) {
    checkNumber(snapshot.every, 'snapshot.every', { min: 1, integer: true })
  }
}

async function loadSnapshot<S>(
  ctx: StoreContext,
  streamId: string,
  name: string,
): Promise<{ state: S; version: number } | undefined> {
  const { rows } = await ctx.driver.query(
    `SELECT version, state FROM ${ctx.names.snapshots} WHERE stream_id = $1 AND name = $2`,
    [streamId, name],
  )
  const row = rows[0] as { version: string | number; state: S } | undefined
  return row === undefined ? undefined : { state: row.state, version: Number(row.version) }
}

/** Stores a state as the snapshot of `name` at `version`, unless a newer one is stored. */
export async function saveSnapshot(
  ctx: StoreContext,
  streamId: string,
  name: string,
  state: unknown,
  version: number,
): Promise<void> {
  await ctx.driver.query(
    `INSERT INTO ${ctx.names.snapshots} AS s (stream_id, name, version, state)
     VALUES ($1, $2, $3, $4::text::jsonb)
     ON CONFLICT (stream_id, name) DO UPDATE
       SET version = EXCLUDED.version, state = EXCLUDED.state, taken_at = now()
       WHERE s.version < EXCLUDED.version`,
    [streamId, name, version, JSON.stringify(state ?? null)],
  )
}

/**
 * Folds a stream's events into a state, page by page, from the latest snapshot when one is
 * named; stores a new snapshot when `every` events were folded since.
 */
export async function aggregateStream<S, T>(
  ctx: StoreContext,
  streamId: string,
  options: AggregateOptions<S, T>,
): Promise<AggregateResult<S>> {
  checkAggregate(options as AggregateOptions<unknown, unknown>)
  const snapshot = options.snapshot
  const stored =
    snapshot === undefined ? undefined : await loadSnapshot<S>(ctx, streamId, snapshot.name)
  let state = stored === undefined ? options.initialState() : stored.state
  let version = stored?.version ?? 0
  const tenant = options.tenant === undefined ? {} : { tenant: options.tenant }
  let exists = false
  for (;;) {
    const page = await readStream<T>(ctx.driver, ctx.names, streamId, {
      from: version + 1,
      limit: PAGE,
      ...tenant,
    })
    exists = page.exists
    if (!exists) break
    for (const event of page.events) {
      state = options.evolve(state, event)
      version = event.streamVersion!
    }
    if (page.events.length < PAGE) break
  }
  // A snapshot of another tenant's stream is never used: the stream reads as absent.
  if (!exists) return { state: options.initialState(), version: 0, exists, fromSnapshot: 0 }
  const every = snapshot?.every
  if (snapshot !== undefined && every !== undefined && version - (stored?.version ?? 0) >= every) {
    await saveSnapshot(ctx, streamId, snapshot.name, state, version)
  }
  return { state, version, exists, fromSnapshot: stored?.version ?? 0 }
}
