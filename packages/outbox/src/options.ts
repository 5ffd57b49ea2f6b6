import {
  type Backoff,
  binaryCodec,
  type Codec,
  ConfigurationError,
  type EventEnvelope,
  exponential,
  type Logger,
  silentLogger,
} from '@switchyard/core'
import { checkKeys, checkNumber } from '@switchyard/core/transport'
import type { OutboxDriver } from './driver.js'
import { type TableNames, tableNames } from './schema.js'

/** Where the relay sends events: an `EventBus`, or anything with its `publishBatch`. */
export interface RelayTarget {
  /** Publishes the events in order; rejects when they were not all confirmed. */
  publishBatch(topic: string, events: EventEnvelope[]): Promise<unknown>
  /** Where the bus logs; the relay logs there too unless given a `logger` of its own. */
  readonly logger?: Logger
}

/** Observation hooks of the relay; errors they throw are ignored. */
export interface RelayHooks {
  /** Rows were claimed for publishing. */
  onClaimed?(info: { count: number }): void
  /** Rows were published and marked sent (after the commit). */
  onPublished?(info: { count: number; topics: string[] }): void
  /** Publishing failed; the rows stay and are retried after a backoff. */
  onFailed?(info: { count: number; error: Error; topic: string }): void
  /** Rows gave up (too many attempts, or an error retrying cannot fix); they stay, parked. */
  onParked?(info: { ids: string[]; error: Error }): void
  /** Something failed outside publishing: a claim, a commit, the LISTEN connection, cleanup. */
  onError?(error: Error, where: string): void
}

/** Options of `createRelay`. */
export interface RelayOptions {
  /** Database access: `pgDriver({...})` or `pgliteDriver(db)`. */
  driver: OutboxDriver
  /** Where events go: usually your `EventBus`. */
  bus: RelayTarget
  /** The outbox table. @default 'outbox' */
  table?: string
  /** Most rows claimed, published and marked in one transaction. @default 500 */
  batchSize?: number
  /**
   * Most ordering lanes one claim takes. Lower spreads keys over more relays; higher lets one
   * relay drain more keys per batch. @default 64
   */
  lanesPerClaim?: number
  /**
   * Claim transactions this relay runs at once, each on its own connection and its own lanes,
   * so publishing one batch overlaps the database work of another. @default 1
   */
  concurrency?: number
  /** Fallback wake-up when no notification arrives (LISTEN lost, backoffs due). @default 1_000 */
  pollIntervalMs?: number
  /** Attempts before a row is parked. @default 20 */
  maxAttempts?: number
  /** Delay before the next attempt of a failed row. @default exponential({ baseMs: 500, maxMs: 300_000 }) */
  backoff?: Backoff
  /** How long a publish may take before it counts as failed. @default 30_000 */
  publishTimeoutMs?: number
  /** How long sent rows are kept; 0 deletes them as they are sent. @default 86_400_000 (24 h) */
  retentionMs?: number
  /** How often this relay deletes sent rows older than `retentionMs`. @default 60_000 */
  cleanupIntervalMs?: number
  /** Decodes stored rows; must match what `enqueue` wrote. @default binaryCodec() */
  codec?: Codec
  /** Observation hooks. */
  hooks?: RelayHooks
  /**
   * Where the relay reports what no hook took: failed publishes and parked rows (`warn`), a
   * database it cannot reach (`error`, then `info` once it is back), a lost LISTEN or claim
   * connection (`warn`). Pino-compatible. The relay writes to nothing else.
   * @default the bus's `logger`, else silentLogger
   */
  logger?: Logger
}

/** Options with defaults applied. */
export interface ResolvedRelayOptions {
  driver: OutboxDriver
  bus: RelayTarget
  table: string
  names: TableNames
  batchSize: number
  concurrency: number
  lanesPerClaim: number
  pollIntervalMs: number
  maxAttempts: number
  backoff: Backoff
  publishTimeoutMs: number
  retentionMs: number
  cleanupIntervalMs: number
  codec: Codec
  hooks: RelayHooks
  logger: Logger
}

const KEYS = [
  'driver',
  'bus',
  'table',
  'batchSize',
  'lanesPerClaim',
  'concurrency',
  'pollIntervalMs',
  'maxAttempts',
  'backoff',
  'publishTimeoutMs',
  'retentionMs',
  'cleanupIntervalMs',
  'codec',
  'hooks',
  'logger',
]

/**
 * Validates relay options and applies defaults.
 * @throws {ConfigurationError} naming the first bad field.
 */
export function resolveRelayOptions(options: RelayOptions): ResolvedRelayOptions {
  checkKeys(options, KEYS, 'createRelay')
  if (options?.driver === undefined || typeof options.driver.transaction !== 'function') {
    throw new ConfigurationError(
      'createRelay needs a driver: pgDriver({ pool }) or pgliteDriver(db)',
      {
        field: 'driver',
      },
    )
  }
  if (options.bus === undefined || typeof options.bus.publishBatch !== 'function') {
    throw new ConfigurationError(
      'createRelay needs a bus (an EventBus or anything with publishBatch)',
      {
        field: 'bus',
      },
    )
  }
  const backoff = options.backoff ?? exponential({ baseMs: 500, maxMs: 300_000 })
  if (typeof backoff !== 'function') {
    throw new ConfigurationError('backoff must be a function (attempt) => ms', { field: 'backoff' })
  }
  const int = { min: 1, integer: true }
  return {
    driver: options.driver,
    bus: options.bus,
    table: options.table ?? 'outbox',
    names: tableNames(options.table),
    batchSize: checkNumber(options.batchSize ?? 500, 'batchSize', { ...int, max: 10_000 }),
    lanesPerClaim: checkNumber(options.lanesPerClaim ?? 64, 'lanesPerClaim', { ...int, max: 1024 }),
    concurrency: checkNumber(options.concurrency ?? 1, 'concurrency', { ...int, max: 16 }),
    pollIntervalMs: checkNumber(options.pollIntervalMs ?? 1_000, 'pollIntervalMs', { min: 1 }),
    maxAttempts: checkNumber(options.maxAttempts ?? 20, 'maxAttempts', int),
    backoff,
    publishTimeoutMs: checkNumber(options.publishTimeoutMs ?? 30_000, 'publishTimeoutMs', {
      min: 1,
    }),
    retentionMs: checkNumber(options.retentionMs ?? 86_400_000, 'retentionMs', { min: 0 }),
    cleanupIntervalMs: checkNumber(options.cleanupIntervalMs ?? 60_000, 'cleanupIntervalMs', {
      min: 1,
    }),
    codec: options.codec ?? binaryCodec(),
    hooks: options.hooks ?? {},
    logger: checkLogger(options.logger ?? options.bus.logger),
  }
}

function checkLogger(logger: Logger | undefined): Logger {
  if (logger === undefined) return silentLogger
  const methods = ['debug', 'info', 'warn', 'error'] as const
  if (methods.some((m) => typeof (logger as Partial<Logger> | null)?.[m] !== 'function')) {
    throw new ConfigurationError(
      'logger must have debug, info, warn and error methods (a pino logger fits)',
      { field: 'logger' },
    )
  }
  return logger
}
