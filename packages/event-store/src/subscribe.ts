import { ConfigurationError } from '@switchyard/core'
import { checkKeys, checkNumber } from '@switchyard/core/transport'
import type { Queryable } from '@switchyard/outbox'
import type { StoreContext } from './context.js'
import type { EventFilter } from './filter.js'
import { Follower, type FollowerHooks } from './follower.js'
import { readAll } from './read.js'
import type { RecordedEvent } from './recorded.js'

/** Handles one event of a subscription; throw to have it retried (nothing is skipped). */
export type AllHandler<T = unknown> = (event: RecordedEvent<T>) => unknown

/** Options of `subscribeToAll`. */
export interface SubscribeToAllOptions extends FollowerHooks {
  /**
   * Subscriber name: its checkpoint (last handled position) is stored under it after every
   * batch, and a subscription of the same name resumes after it. Without a name nothing is stored.
   */
  name?: string
  /** Where to start when no checkpoint is stored: a position (inclusive), or the end. @default 1 */
  from?: number | 'end'
  /** Only events that match are handed to the handler; the checkpoint moves past the others. */
  filter?: EventFilter
  /** Events read per page (and per checkpoint write). @default 100 */
  batchSize?: number
  /** Delay before retrying a failed handler or read. @default 1_000 */
  retryDelayMs?: number
}

/** A running subscription to the global order. */
export interface AllSubscription {
  /** The subscriber name, when it has one. */
  readonly name: string | undefined
  /** The first position not yet handled. */
  readonly nextPosition: number
  /** Resolves once every event up to `position` was handled. */
  waitFor(position: number): Promise<void>
  /** Resolves the next time the subscription has handled everything committed. */
  caughtUp(): Promise<void>
  /** Stops after the event in hand, storing the checkpoint; resolves when stopped. */
  stop(): Promise<void>
  /** `stop()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>
}

const KEYS = ['name', 'from', 'filter', 'batchSize', 'retryDelayMs', 'onError']

/** The last handled position stored under `name`, or undefined. */
export async function readCheckpoint(
  db: Queryable,
  ctx: StoreContext,
  name: string,
): Promise<number | undefined> {
  const { rows } = await db.query(`SELECT position FROM ${ctx.names.checkpoints} WHERE name = $1`, [
    name,
  ])
  const row = rows[0] as { position: string | number } | undefined
  return row === undefined ? undefined : Number(row.position)
}

/** Stores `position` as the last handled position of `name`. */
export async function writeCheckpoint(
  db: Queryable,
  ctx: StoreContext,
  name: string,
  position: number,
): Promise<void> {
  await db.query(
    `INSERT INTO ${ctx.names.checkpoints} (name, position) VALUES ($1, $2)
     ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now()`,
    [name, position],
  )
}

/**
 * Catch-up then live: reads the global order page by page from the checkpoint, hands each
 * event to `handler` in order, stores the checkpoint after each page, then waits for commits.
 * At-least-once: after a crash the events after the last stored checkpoint are handled again.
 */
export async function subscribeToAll<T>(
  ctx: StoreContext,
  handler: AllHandler<T>,
  options: SubscribeToAllOptions = {},
): Promise<AllSubscription> {
  if (typeof handler !== 'function') {
    throw new ConfigurationError('subscribeToAll needs a handler function', { field: 'handler' })
  }
  checkKeys(options, KEYS, 'subscribeToAll')
  const name = options.name
  if (name !== undefined && (typeof name !== 'string' || name.length === 0)) {
    throw new ConfigurationError('name must be a non-empty string', { field: 'name' })
  }
  const batchSize = checkNumber(options.batchSize ?? 100, 'batchSize', { min: 1, integer: true })
  const retryDelayMs = checkNumber(options.retryDelayMs ?? 1_000, 'retryDelayMs', { min: 0 })
  let saved = name === undefined ? undefined : await readCheckpoint(ctx.driver, ctx, name)
  let from: number
  if (saved !== undefined) from = saved + 1
  else if (options.from === 'end')
    from = (await readAll(ctx.driver, ctx.names, { limit: 1 })).headPosition + 1
  else from = checkNumber(options.from ?? 1, 'from', { min: 1, integer: true })
  const label = name === undefined ? 'subscription' : `subscription "${name}"`
  const follower: Follower = new Follower(
    ctx,
    label,
    async (position) => {
      const page = await readAll<T>(ctx.driver, ctx.names, {
        from: position,
        limit: batchSize,
        ...(options.filter === undefined ? {} : { filter: options.filter }),
      })
      let next = position
      try {
        for (const event of page.events) {
          if (!(await handleWithRetry(follower, handler, event, retryDelayMs))) {
            return { nextPosition: next, caughtUp: false }
          }
          next = event.position + 1
          follower.advance(next)
        }
        if (!follower.stopping) next = page.nextPosition
      } finally {
        if (name !== undefined && next - 1 !== (saved ?? 0) && next > 1) {
          await writeCheckpoint(ctx.driver, ctx, name, next - 1)
          saved = next - 1
        }
      }
      return { nextPosition: next, caughtUp: page.caughtUp }
    },
    { retryDelayMs, hooks: options },
  )
  await follower.start(from)
  return {
    name,
    get nextPosition() {
      return follower.nextPosition
    },
    waitFor: (position) => follower.waitFor(position),
    caughtUp: () => follower.caughtUp(),
    stop: () => follower.stop(),
    [Symbol.asyncDispose]: () => follower.stop(),
  }
}

async function handleWithRetry<T>(
  follower: Follower,
  handler: AllHandler<T>,
  event: RecordedEvent<T>,
  retryDelayMs: number,
): Promise<boolean> {
  while (!follower.stopping) {
    try {
      await handler(event)
      return true
    } catch (error) {
      follower.report(error as Error, `handler at position ${event.position}`)
      await new Promise((resolve) => setTimeout(resolve, retryDelayMs))
    }
  }
  return false
}
