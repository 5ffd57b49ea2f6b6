import {
  checkKeys,
  checkNumber,
  type Env,
  envReader,
  type SubscribeDefaults,
  subscribeDefaultsFromEnv,
} from '@switchyard/core/transport'
import type { MemoryBroker } from './broker.js'

/** Options of `memoryTransport`. */
export interface MemoryTransportOptions {
  /**
   * Share one in-process broker between several transports (several buses in one test, a
   * service and its consumers in a demo). @default a new broker per transport
   */
  broker?: MemoryBroker
  /**
   * Most events waiting for any one group of a topic (DotMac's `max_queue_size`). A publish that
   * would exceed it waits until the group catches up, up to `publishTimeoutMs`.
   * @default 100_000
   */
  maxQueueSize?: number
  /** How long a publish waits for queue space before it fails with a `PublishError`. @default 30_000 */
  publishTimeoutMs?: number
  /**
   * Events kept per topic for `startAt: 'earliest'`, `{ time }`, `{ sequence }` and dead-letter
   * listing (DotMac's `enable_persistence`); 0 keeps none. @default 10_000
   */
  historySize?: number
  /**
   * Hand envelopes to handlers by reference, skipping encode and decode. Fastest, but handlers
   * share objects with publishers and non-serialisable data is not caught. @default false
   */
  passByReference?: boolean
  /**
   * Subscription settings applied under what each `subscribe` is given (retries, dead
   * letters); `fromEnv()` fills them from the environment. @default none
   */
  subscribeDefaults?: SubscribeDefaults | undefined
}

/** Options with defaults applied. */
export interface ResolvedMemoryOptions {
  maxQueueSize: number
  publishTimeoutMs: number
  historySize: number
  passByReference: boolean
}

/** Validates options and applies defaults. @throws {ConfigurationError} naming the field. */
export function resolveOptions(options: MemoryTransportOptions): ResolvedMemoryOptions {
  checkKeys(
    options,
    [
      'broker',
      'maxQueueSize',
      'publishTimeoutMs',
      'historySize',
      'passByReference',
      'subscribeDefaults',
    ],
    'memoryTransport',
  )
  return {
    maxQueueSize: checkNumber(options.maxQueueSize ?? 100_000, 'memoryTransport.maxQueueSize', {
      min: 1,
      integer: true,
    }),
    publishTimeoutMs: checkNumber(
      options.publishTimeoutMs ?? 30_000,
      'memoryTransport.publishTimeoutMs',
      { min: 0 },
    ),
    historySize: checkNumber(options.historySize ?? 10_000, 'memoryTransport.historySize', {
      min: 0,
      integer: true,
    }),
    passByReference: options.passByReference ?? false,
  }
}

/**
 * Reads options from the environment: `MEMORY_MAX_QUEUE_SIZE`, `MEMORY_HISTORY_SIZE`, and the
 * subscription defaults every adapter reads through core (`EVENTS_MAX_RETRIES`,
 * `EVENTS_RETRY_BACKOFF_MS`, `EVENTS_RETRY_MAX_BACKOFF_MS`, `DLQ_ENABLED`, `DLQ_TOPIC_SUFFIX`).
 * Unset variables keep the defaults.
 * @throws {ConfigurationError} naming the variable that is set to something unusable.
 * @example const transport = memoryTransport(fromEnv())
 */
export function fromEnv(env: Env = process.env): MemoryTransportOptions {
  const read = envReader(env)
  const options: MemoryTransportOptions = {}
  const maxQueueSize = read.int('MEMORY_MAX_QUEUE_SIZE')
  if (maxQueueSize !== undefined) options.maxQueueSize = maxQueueSize
  const historySize = read.int('MEMORY_HISTORY_SIZE')
  if (historySize !== undefined) options.historySize = historySize
  const subscribeDefaults = subscribeDefaultsFromEnv(env)
  if (subscribeDefaults !== undefined) options.subscribeDefaults = subscribeDefaults
  return options
}
