import {
  ConfigurationError,
  type EventBus,
  type EventEnvelope,
  type SubscribeOptions,
} from '@switchyard/core'
import type { RecordResult } from './record.js'

/** What `archive` needs of a store: its `record`. */
export interface ArchiveTarget {
  /** Stores events idempotently on id. */
  record(topic: string, events: EventEnvelope | readonly EventEnvelope[]): Promise<RecordResult>
}

/** Options of `archive`. */
export interface ArchiveOptions {
  /** Topics whose every event is recorded. */
  topics: readonly string[]
  /** The consumer group the archive reads in (its own: it must see every event). */
  group: string
  /**
   * Further subscribe options (retry, dead letters, concurrency, ...).
   * @default { startAt: 'earliest' }: a new group starts with what the broker still retains
   */
  subscribe?: Omit<SubscribeOptions, 'group'>
}

/** A running archive. */
export interface Archive {
  /** The topics recorded. */
  readonly topics: readonly string[]
  /** Stops the subscriptions after the events in hand. */
  close(): Promise<void>
  /** `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * Records every event of `topics` into the store through a consumer group, so what flowed
 * through the bus stays queryable (`getEvent`, `queryEvents`, the gateway's event routes) after
 * the broker's retention expired. Idempotent on event id: a redelivery, a second archive
 * process or an event the store appended itself (back through the outbox) is stored once.
 * A failed insert is retried, then dead-lettered, by the bus's policy for the group.
 * @example
 * const running = await archive(bus, store, { topics: ['employees'], group: 'archive' })
 * @throws {ConfigurationError} for missing topics or group.
 */
export async function archive(
  bus: Pick<EventBus, 'subscribe'>,
  store: ArchiveTarget,
  options: ArchiveOptions,
): Promise<Archive> {
  const topics = options?.topics
  if (!Array.isArray(topics) || topics.length === 0 || topics.some((t) => typeof t !== 'string')) {
    throw new ConfigurationError('archive needs { topics: [...] }, a non-empty list of topics', {
      field: 'topics',
    })
  }
  if (typeof options.group !== 'string' || options.group.length === 0) {
    throw new ConfigurationError('archive needs a consumer group of its own', { field: 'group' })
  }
  const subscriptions: Array<{ close(): Promise<void> }> = []
  try {
    for (const topic of topics) {
      const sub = await bus.subscribe(
        topic,
        async (event: EventEnvelope) => {
          await store.record(topic, event)
        },
        { startAt: 'earliest', ...options.subscribe, group: options.group },
      )
      subscriptions.push(sub)
    }
  } catch (error) {
    await Promise.allSettled(subscriptions.map((s) => s.close()))
    throw error
  }
  const close = async () => {
    await Promise.all(subscriptions.map((s) => s.close()))
  }
  return { topics: [...topics], close, [Symbol.asyncDispose]: close }
}
