import { ConfigurationError, consoleLogger, type Logger } from '@switchyard/core'
import { checkKeys, checkLogger, checkNumber } from '@switchyard/core/transport'
import type { OutboxDriver } from '@switchyard/outbox'
import type { OutboxTarget } from './context.js'
import type { AggregateRef } from './names.js'
import { checkProjection, type Projection } from './projections.js'

/** The stream a topic is chosen for. */
export interface StreamRef {
  /** The stream id. */
  streamId: string
  /** Its aggregate type (the part before the first `-`), when it has one. */
  aggregateType: string | undefined
  /** Its aggregate id. */
  aggregateId: string
}

/** How appended events are published through `@switchyard/outbox`. */
export interface EventStoreOutboxOptions {
  /**
   * The topic of a stream's events: a name, or a function of the stream.
   * @default the aggregate type (`employee` for `employee-e1`), else `'events'`
   */
  topic?: string | ((stream: StreamRef) => string)
  /** The outbox table. @default 'outbox' */
  table?: string
}

/** Options of `createEventStore`. */
export interface EventStoreOptions {
  /** Database access, shared with the outbox: `pgDriver({...})` or `pgliteDriver(db)`. */
  driver: OutboxDriver
  /** The PostgreSQL schema of the store's tables. @default 'event_store' */
  schema?: string
  /** `source` of appended events that carry none, usually the service name. */
  source?: string
  /**
   * Publishing: every append enqueues its events in the outbox in the same transaction;
   * `false` appends without publishing. @default { topic: aggregate type, table: 'outbox' }
   */
  outbox?: EventStoreOutboxOptions | false
  /** Inline projections: run in every append's transaction, so the read model never lags. */
  projections?: readonly Projection[]
  /** Fallback wake-up of subscriptions and projections when no notification arrives. @default 1_000 */
  pollIntervalMs?: number
  /** Where failures of subscriptions and projections are logged (pino-compatible). @default consoleLogger('warn') */
  logger?: Logger
}

const KEYS = ['driver', 'schema', 'source', 'outbox', 'projections', 'pollIntervalMs', 'logger']

/** Checked options with defaults. */
export interface ResolvedOptions {
  driver: OutboxDriver
  schema: string | undefined
  source: string | undefined
  outbox: OutboxTarget | undefined
  projections: readonly Projection[]
  pollIntervalMs: number
  logger: Logger
}

function outboxTarget(
  option: EventStoreOutboxOptions | false | undefined,
): OutboxTarget | undefined {
  if (option === false) return undefined
  checkKeys(option, ['topic', 'table'], 'outbox')
  const topic = option?.topic
  if (
    topic !== undefined &&
    typeof topic !== 'function' &&
    (typeof topic !== 'string' || topic === '')
  ) {
    throw new ConfigurationError('outbox.topic must be a topic name or a function of the stream', {
      field: 'outbox.topic',
    })
  }
  const table = option?.table ?? 'outbox'
  return {
    table,
    topicFor(streamId: string, aggregate: AggregateRef): string {
      if (typeof topic === 'string') return topic
      if (topic === undefined) return aggregate.type ?? 'events'
      return topic({ streamId, aggregateType: aggregate.type, aggregateId: aggregate.id })
    },
  }
}

/**
 * @throws {ConfigurationError} for a missing driver, an unknown key or a malformed value.
 */
export function resolveOptions(options: EventStoreOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new ConfigurationError('createEventStore needs options with a driver', {
      field: 'options',
    })
  }
  checkKeys(options, KEYS, 'createEventStore')
  const driver = options.driver
  if (driver === null || typeof driver !== 'object' || typeof driver.transaction !== 'function') {
    throw new ConfigurationError(
      'createEventStore needs a driver: pgDriver({ connectionString }) or pgliteDriver(db)',
      { field: 'driver' },
    )
  }
  if (
    options.source !== undefined &&
    (typeof options.source !== 'string' || options.source === '')
  ) {
    throw new ConfigurationError('source must be a non-empty string', { field: 'source' })
  }
  const projections = options.projections ?? []
  if (!Array.isArray(projections)) {
    throw new ConfigurationError('projections must be a list', { field: 'projections' })
  }
  const names = new Set<string>()
  for (const p of projections) {
    checkProjection(p)
    if (names.has(p.name)) {
      throw new ConfigurationError(`Two projections are named "${p.name}"`, {
        field: 'projections',
      })
    }
    names.add(p.name)
  }
  return {
    driver,
    schema: options.schema,
    source: options.source,
    outbox: outboxTarget(options.outbox),
    projections,
    pollIntervalMs: checkNumber(options.pollIntervalMs ?? 1_000, 'pollIntervalMs', { min: 1 }),
    logger: checkLogger(options.logger, 'logger') ?? consoleLogger('warn'),
  }
}
