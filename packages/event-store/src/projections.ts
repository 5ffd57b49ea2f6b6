import { ConfigurationError, typeMatcher } from '@switchyard/core'
import { checkKeys, checkNumber } from '@switchyard/core/transport'
import type { Queryable } from '@switchyard/outbox'
import type { StoreContext } from './context.js'
import { Follower, type FollowerHooks } from './follower.js'
import { readAll } from './read.js'
import type { RecordedEvent } from './recorded.js'
import { writeCheckpoint } from './subscribe.js'

/** What a projection's functions get: the transaction its read model is written in. */
export interface ProjectionContext {
  /** Writes here commit with the append (inline) or with the checkpoint (asynchronous). */
  tx: Queryable
}

/**
 * A read model kept from events. The same object runs inline (in the append's transaction,
 * given to `createEventStore({ projections })`) or asynchronously (`store.startProjection`).
 */
export interface Projection {
  /** Names the projection; its checkpoint is `projection:<name>`. */
  name: string
  /** Event type globs it handles; others never reach `handle`. @default every type */
  types?: readonly string[]
  /** Applies events, in position order, through `ctx.tx`. */
  handle(events: RecordedEvent[], ctx: ProjectionContext): unknown
  /** Empties the read model before a rebuild; `rebuild` refuses a projection without it. */
  reset?(ctx: ProjectionContext): unknown
}

/** Options of `startProjection`. */
export interface ProjectionRunOptions extends FollowerHooks {
  /** Events read, handled and checkpointed per transaction. @default 500 */
  batchSize?: number
  /** Delay before retrying a failed batch. @default 1_000 */
  retryDelayMs?: number
}

/** A running asynchronous projection. */
export interface ProjectionRunner {
  /** The projection's name. */
  readonly name: string
  /** The first position not yet projected. */
  readonly nextPosition: number
  /** Resolves once every event up to `position` was projected. */
  waitFor(position: number): Promise<void>
  /** Stops after the batch in hand; resolves when stopped. */
  stop(): Promise<void>
  /** `stop()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>
}

/** @throws {ConfigurationError} for an object that is not a projection. */
export function checkProjection(projection: Projection): Projection {
  if (
    projection === null ||
    typeof projection !== 'object' ||
    typeof projection.name !== 'string' ||
    projection.name.length === 0 ||
    typeof projection.handle !== 'function'
  ) {
    throw new ConfigurationError('A projection needs a name and handle(events, { tx })', {
      field: 'projection',
    })
  }
  return projection
}

/** The events of `events` a projection handles. */
export function eventsFor(projection: Projection, events: RecordedEvent[]): RecordedEvent[] {
  if (projection.types === undefined) return events
  const matches = typeMatcher(projection.types)
  return events.filter((e) => matches(e.event.type))
}

const checkpointName = (projection: Projection) => `projection:${projection.name}`

/** Locks the projection's checkpoint row (creating it at 0) and returns the position in it. */
async function lockCheckpoint(tx: Queryable, ctx: StoreContext, name: string): Promise<number> {
  await tx.query(
    `INSERT INTO ${ctx.names.checkpoints} (name, position) VALUES ($1, 0) ON CONFLICT DO NOTHING`,
    [name],
  )
  const { rows } = await tx.query(
    `SELECT position FROM ${ctx.names.checkpoints} WHERE name = $1 FOR UPDATE`,
    [name],
  )
  return Number((rows[0] as { position: string | number }).position)
}

/**
 * One batch in one transaction: lock the checkpoint, read after it, project, move it. Runners
 * of the same projection in several processes take turns on the lock, so no event is
 * projected twice and none is missed.
 */
async function projectBatch(
  ctx: StoreContext,
  projection: Projection,
  batchSize: number,
): Promise<{ nextPosition: number; caughtUp: boolean }> {
  const name = checkpointName(projection)
  return ctx.driver.transaction(async (tx) => {
    const done = await lockCheckpoint(tx, ctx, name)
    const page = await readAll(tx, ctx.names, { from: done + 1, limit: batchSize })
    const mine = eventsFor(projection, page.events)
    if (mine.length > 0) await projection.handle(mine, { tx })
    if (page.nextPosition - 1 > done) await writeCheckpoint(tx, ctx, name, page.nextPosition - 1)
    return { nextPosition: page.nextPosition, caughtUp: page.caughtUp }
  })
}

/** Starts an asynchronous projection from its checkpoint. */
export async function startProjection(
  ctx: StoreContext,
  projection: Projection,
  options: ProjectionRunOptions = {},
): Promise<ProjectionRunner> {
  checkProjection(projection)
  checkKeys(options, ['batchSize', 'retryDelayMs', 'onError'], 'startProjection')
  const batchSize = checkNumber(options.batchSize ?? 500, 'batchSize', { min: 1, integer: true })
  const retryDelayMs = checkNumber(options.retryDelayMs ?? 1_000, 'retryDelayMs', { min: 0 })
  const follower = new Follower(
    ctx,
    `projection "${projection.name}"`,
    () => projectBatch(ctx, projection, batchSize),
    { retryDelayMs, hooks: options },
  )
  await follower.start(1)
  return {
    name: projection.name,
    get nextPosition() {
      return follower.nextPosition
    },
    waitFor: (position) => follower.waitFor(position),
    stop: () => follower.stop(),
    [Symbol.asyncDispose]: () => follower.stop(),
  }
}

/**
 * Empties a projection's read model and projects every event again from position 1.
 * An inline projection is rebuilt in one transaction holding the append lock (appends wait,
 * so none is projected twice or missed); an asynchronous one resets its checkpoint with the
 * read model and catches up batch by batch (a runner of it may keep running meanwhile).
 * Resolves with the last position projected.
 * @throws {ConfigurationError} for a projection without `reset`.
 */
export async function rebuildProjection(
  ctx: StoreContext,
  projection: Projection,
  inline: boolean,
  batchSize = 1_000,
): Promise<number> {
  checkProjection(projection)
  const reset = projection.reset
  if (typeof reset !== 'function') {
    throw new ConfigurationError(
      `Projection "${projection.name}" has no reset(ctx): it cannot be rebuilt`,
      { field: 'reset' },
    )
  }
  if (inline) {
    return ctx.driver.transaction(async (tx) => {
      await tx.query(`SELECT position FROM ${ctx.names.head} FOR UPDATE`)
      await reset.call(projection, { tx })
      let from = 1
      for (;;) {
        const page = await readAll(tx, ctx.names, { from, limit: batchSize })
        const mine = eventsFor(projection, page.events)
        if (mine.length > 0) await projection.handle(mine, { tx })
        from = page.nextPosition
        if (page.caughtUp) return from - 1
      }
    })
  }
  const name = checkpointName(projection)
  await ctx.driver.transaction(async (tx) => {
    await lockCheckpoint(tx, ctx, name)
    await reset.call(projection, { tx })
    await writeCheckpoint(tx, ctx, name, 0)
  })
  for (;;) {
    const result = await projectBatch(ctx, projection, batchSize)
    if (result.caughtUp) return result.nextPosition - 1
  }
}
