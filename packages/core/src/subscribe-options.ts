import { type BatchOptions, type ResolvedBatch, resolveBatch } from './batch.js'
import { checkDelivery, type DeliveryMode } from './delivery-mode.js'
import type { EventEnvelope } from './envelope.js'
import { ConfigurationError } from './errors.js'
import type { HandleContext } from './middleware.js'
import { checkKeys, checkNumber, checkString } from './options.js'
import { type RetryOptions, type RetryPolicy, retryPolicy } from './retry-policy.js'
import type { StartAt } from './start-at.js'

/**
 * Handles one event. Return nothing (or `outcome.success()`) when done, throw to retry per the
 * policy, or return `outcome.retry()`, `outcome.deadLetter(reason)` or `outcome.drop()`.
 */
export type EventHandler<T = unknown> = (event: EventEnvelope<T>, ctx: HandleContext<T>) => unknown

/** Where given-up events go. */
export interface DeadLetterOptions {
  /** The dead-letter topic. @default `${topic}${suffix}` */
  topic?: string
  /** Suffix of the default dead-letter topic (`DLQ_TOPIC_SUFFIX`). @default the bus's deadLetterSuffix */
  suffix?: string
}

/** Options of `bus.subscribe`. */
export interface SubscribeOptions {
  /** Consumer group: same group load-balances, different groups each get every event. @default 'default' */
  group?: string
  /** Handlers running at once. Same partition key still runs in order. @default 1 */
  concurrency?: number
  /** Most events held (running, queued in lanes, retrying) before the transport is read again. @default max(16, 2 × concurrency) */
  prefetch?: number
  /** Retry policy. */
  retry?: RetryOptions
  /** Dead-letter destination; `false` drops given-up events after the `onDeadLetter` hook. @default { topic: `${topic}.dlq` } */
  deadLetter?: DeadLetterOptions | false
  /** Where a new group starts. @default 'latest' */
  startAt?: StartAt
  /** Only handle these event types (globs: `user.*`, `user.**`); others are acknowledged and skipped. */
  types?: string | readonly string[]
  /** Only handle events of these tenants; others are acknowledged and skipped. */
  tenant?: string | readonly string[]
  /** Upper bound for `close()` to drain running handlers. @default the bus's closeTimeoutMs */
  closeTimeoutMs?: number
  /**
   * Hand the handler (a `BatchHandler`) up to `maxSize` events at once; `concurrency` then counts
   * batches. Retries, dead letters and per-key order work as for single events.
   */
  batch?: BatchOptions
  /** When events are settled with the broker (see `DeliveryMode`). @default 'at-least-once' */
  delivery?: DeliveryMode
}

/** The subscription settings a transport's configuration may carry (`Transport.subscribeDefaults`). */
export type SubscribeDefaults = Pick<SubscribeOptions, 'retry' | 'deadLetter'>

const SUBSCRIBE_KEYS = [
  'group',
  'concurrency',
  'prefetch',
  'retry',
  'deadLetter',
  'startAt',
  'types',
  'tenant',
  'closeTimeoutMs',
  'batch',
  'delivery',
]

/** Subscribe options validated, with the bus's defaults applied. */
export interface ResolvedSubscribeOptions {
  group: string
  concurrency: number
  prefetch: number
  policy: RetryPolicy
  startAt: StartAt
  /** Undefined when dead-lettering is off. */
  deadLetterTopic: string | undefined
  closeTimeoutMs: number
  /** Undefined for a single-event handler. */
  batch: ResolvedBatch | undefined
  delivery: DeliveryMode
}

/** Validates `subscribe` options. @throws {ConfigurationError} naming the option. */
export function resolveSubscribeOptions(
  options: SubscribeOptions,
  topic: string,
  bus: {
    deadLetterSuffix: string
    defaultCloseTimeoutMs: number
    transport: { name: string; features: { exactlyOnce?: boolean | undefined } }
  },
): ResolvedSubscribeOptions {
  checkKeys(options, SUBSCRIBE_KEYS, 'subscribe')
  const delivery = checkDelivery(options.delivery, bus.transport)
  const batch = resolveBatch(options.batch)
  if (batch && delivery === 'exactly-once')
    throw new ConfigurationError(
      'exactly-once commits each event with its own publishes; use it without batch',
      { field: 'subscribe.delivery' },
    )
  // With batches, each of `concurrency` batches has up to maxSize events running in it.
  const concurrency =
    checkNumber(options.concurrency ?? 1, 'subscribe.concurrency', { min: 1, integer: true }) *
    (batch?.maxSize ?? 1)
  const deadLetter = options.deadLetter ?? {}
  if (deadLetter !== false) checkKeys(deadLetter, ['topic', 'suffix'], 'subscribe.deadLetter')
  const suffix = () =>
    checkString(
      (deadLetter as DeadLetterOptions).suffix ?? bus.deadLetterSuffix,
      'subscribe.deadLetter.suffix',
    )
  return {
    group: checkString(options.group ?? 'default', 'subscribe.group'),
    concurrency,
    prefetch: checkNumber(options.prefetch ?? Math.max(16, concurrency * 2), 'subscribe.prefetch', {
      min: 1,
      integer: true,
    }),
    // At most once: a retry would handle the event a second time.
    policy: retryPolicy(
      delivery === 'at-most-once' ? { ...options.retry, maxAttempts: 1 } : options.retry,
    ),
    startAt: options.startAt ?? 'latest',
    deadLetterTopic: deadLetter === false ? undefined : (deadLetter.topic ?? `${topic}${suffix()}`),
    closeTimeoutMs: checkNumber(
      options.closeTimeoutMs ?? bus.defaultCloseTimeoutMs,
      'subscribe.closeTimeoutMs',
      { min: 0 },
    ),
    batch,
    delivery,
  }
}
