import type { EventEnvelope, EventInput } from '@switchyard/core'
import { migrate as migrateOutbox, type Queryable } from '@switchyard/outbox'
import {
  type AggregateOptions,
  type AggregateResult,
  aggregateStream,
  saveSnapshot,
} from './aggregate.js'
import { type AppendOptions, type AppendResult, append } from './append.js'
import type { StoreContext } from './context.js'
import { checkStreamId, type StoreNames, storeNames } from './names.js'
import { type EventStoreOptions, resolveOptions } from './options.js'
import {
  eventsFor,
  type Projection,
  type ProjectionRunner,
  type ProjectionRunOptions,
  rebuildProjection,
  startProjection,
} from './projections.js'
import { countEvents, type EventPage, type EventQuery, queryEvents } from './query.js'
import {
  getEvent,
  type ReadAllOptions,
  type ReadAllResult,
  type ReadStreamOptions,
  type ReadStreamResult,
  readAll,
  readStream,
} from './read.js'
import { type RecordResult, record } from './record.js'
import type { RecordedEvent } from './recorded.js'
import { type ReplayOptions, type ReplayProgress, type ReplayTarget, replay } from './replay.js'
import { migrateEventStore } from './schema.js'
import {
  type AllHandler,
  type AllSubscription,
  readCheckpoint,
  type SubscribeToAllOptions,
  subscribeToAll,
} from './subscribe.js'

/**
 * The event store: streams with optimistic concurrency, the global order, subscriptions,
 * projections, snapshots, the archive's `record` and the gateway's queries. Made by
 * `createEventStore`.
 */
export class EventStore {
  /** Quoted names of the store's tables. */
  readonly names: StoreNames
  private readonly ctx: StoreContext
  private readonly inline: readonly Projection[]
  private readonly running = new Set<{ stop(): Promise<void> }>()

  constructor(options: EventStoreOptions) {
    const resolved = resolveOptions(options)
    this.names = storeNames(resolved.schema)
    this.inline = resolved.projections
    const inline = this.inline
    this.ctx = {
      driver: resolved.driver,
      names: this.names,
      source: resolved.source,
      outbox: resolved.outbox,
      logger: resolved.logger,
      pollIntervalMs: resolved.pollIntervalMs,
      prepared: resolved.driver.name === 'pg' ? `switchyard_es_${this.names.schema}` : undefined,
      hasInline: inline.length > 0,
      async runInline(events: RecordedEvent[], tx: Queryable) {
        for (const projection of inline) {
          const mine = eventsFor(projection, events)
          if (mine.length > 0) await projection.handle(mine, { tx })
        }
      },
    }
  }

  /** Creates the store's tables (and the outbox table when publishing is on); idempotent. */
  async migrate(): Promise<void> {
    await migrateEventStore(this.ctx.driver, { schema: this.names.schema })
    if (this.ctx.outbox !== undefined) {
      await migrateOutbox(this.ctx.driver, { table: this.ctx.outbox.table })
    }
  }

  /**
   * Appends events to a stream in one transaction with their outbox rows and inline projections.
   * @throws {WrongExpectedVersionError} when the stream is not at `expectedVersion`.
   * @throws {DuplicateEventError} when some ids are stored by another append.
   * @throws {StreamTenantError} when the stream belongs to another tenant.
   * @throws {ConfigurationError} for an invalid stream id, event or option.
   */
  append<T>(
    streamId: string,
    events: EventInput<T> | readonly EventInput<T>[],
    options?: AppendOptions,
  ): Promise<AppendResult<T>> {
    return append(this.ctx, streamId, events, options)
  }

  /** Reads a stream's events forward or backward. */
  readStream<T = unknown>(
    streamId: string,
    options?: ReadStreamOptions,
  ): Promise<ReadStreamResult<T>> {
    return readStream<T>(this.ctx.driver, this.names, checkStreamId(streamId), options)
  }

  /** Folds a stream into a state, from its latest snapshot when `snapshot` names one. */
  aggregateStream<S, T = unknown>(
    streamId: string,
    options: AggregateOptions<S, T>,
  ): Promise<AggregateResult<S>> {
    return aggregateStream(this.ctx, checkStreamId(streamId), options)
  }

  /** Folds a stream and stores the state as a snapshot now (on demand). */
  async snapshot<S, T = unknown>(
    streamId: string,
    options: AggregateOptions<S, T> & { snapshot: { name: string } },
  ): Promise<AggregateResult<S>> {
    const result = await this.aggregateStream(streamId, options)
    if (result.exists && result.version > result.fromSnapshot) {
      await saveSnapshot(this.ctx, streamId, options.snapshot.name, result.state, result.version)
    }
    return result
  }

  /** Reads the global order from a position. */
  readAll<T = unknown>(options?: ReadAllOptions): Promise<ReadAllResult<T>> {
    return readAll<T>(this.ctx.driver, this.names, options)
  }

  /** Catch-up then live subscription to the global order, checkpointed under `name`. */
  async subscribeToAll<T = unknown>(
    handler: AllHandler<T>,
    options?: SubscribeToAllOptions,
  ): Promise<AllSubscription> {
    const sub = await subscribeToAll(this.ctx, handler, options)
    return this.track(sub)
  }

  /** The last position a subscriber name handled, or undefined. */
  checkpoint(name: string): Promise<number | undefined> {
    return readCheckpoint(this.ctx.driver, this.ctx, name)
  }

  /** Runs a projection asynchronously from its checkpoint. */
  async startProjection(
    projection: Projection,
    options?: ProjectionRunOptions,
  ): Promise<ProjectionRunner> {
    return this.track(await startProjection(this.ctx, projection, options))
  }

  /**
   * Empties a projection's read model and projects everything again from position 1; an
   * inline projection (one given to `createEventStore`) holds appends meanwhile.
   * Resolves with the last position projected.
   */
  rebuildProjection(projection: Projection, options: { batchSize?: number } = {}): Promise<number> {
    const inline = this.inline.some((p) => p === projection || p.name === projection.name)
    return rebuildProjection(this.ctx, projection, inline, options.batchSize)
  }

  /** Stores events as they are (the archive), idempotent on id. */
  record(
    topic: string | undefined,
    events: EventEnvelope | readonly EventEnvelope[],
  ): Promise<RecordResult> {
    return record(this.ctx, topic, events)
  }

  /** One event by id; undefined when absent or, given a tenant, another tenant's. */
  getEvent<T = unknown>(
    id: string,
    options?: { tenant?: string },
  ): Promise<RecordedEvent<T> | undefined> {
    return getEvent<T>(this.ctx.driver, this.names, id, options)
  }

  /** One keyset page of events matching a query. */
  queryEvents<T = unknown>(query: EventQuery): Promise<EventPage<T>> {
    return queryEvents<T>(this.ctx.driver, this.names, query)
  }

  /** How many events match a query. */
  countEvents(query: EventQuery): Promise<number> {
    return countEvents(this.ctx.driver, this.names, query)
  }

  /**
   * Publishes stored events matching `options.query` again to `options.topic` through `bus`,
   * oldest first, unchanged; resolves with the final progress (see `replay`).
   */
  replay(bus: ReplayTarget, options: ReplayOptions): Promise<ReplayProgress> {
    return replay(bus, this, options)
  }

  /** Stops the subscriptions and projections started through this store. The driver stays open. */
  async close(): Promise<void> {
    await Promise.all([...this.running].map((r) => r.stop()))
    this.running.clear()
  }

  /** `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  private track<R extends { stop(): Promise<void> }>(runner: R): R {
    const stop = runner.stop.bind(runner)
    const running = this.running
    const tracked = { stop }
    running.add(tracked)
    runner.stop = async () => {
      running.delete(tracked)
      await stop()
    }
    return runner
  }
}

/**
 * An event store over PostgreSQL (`pgDriver`) or PGlite (`pgliteDriver`). Call `migrate()` once.
 * @example
 * const store = createEventStore({ driver: pgliteDriver(new PGlite()), source: 'hr' })
 * await store.migrate()
 * await store.append('employee-e1', { type: 'employee.hired', data: { name: 'Ada' } }, { expectedVersion: 'no_stream' })
 * @throws {ConfigurationError} for a missing driver or an invalid option.
 */
export function createEventStore(options: EventStoreOptions): EventStore {
  return new EventStore(options)
}
