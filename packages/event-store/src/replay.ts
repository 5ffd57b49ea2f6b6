import { ConfigurationError, type EventEnvelope } from '@switchyard/core'
import { checkNumber } from '@switchyard/core/transport'
import type { EventPage, EventQuery } from './query.js'
import type { ReadAllResult } from './read.js'

/** What `replay` needs of a store. */
export interface ReplaySource {
  /** One page of matching events. */
  queryEvents(query: EventQuery): Promise<EventPage>
  /** How many events match. */
  countEvents(query: EventQuery): Promise<number>
  /** The head, through a one-event read. */
  readAll(options: { limit: number }): Promise<ReadAllResult>
}

/** Where `replay` publishes: an `EventBus`, or anything with its `publishBatch`. */
export interface ReplayTarget {
  /** Publishes the events in order; rejects when they were not all confirmed. */
  publishBatch(topic: string, events: EventEnvelope[]): Promise<unknown>
}

/** How far a replay got. */
export interface ReplayProgress {
  /** Events the replay covers (counted when it started). */
  total: number
  /** Events published so far. */
  published: number
  /** Position of the last event published. */
  lastPosition: number | undefined
}

/** Options of `replay`. */
export interface ReplayOptions {
  /** Which events: any query fields (topics, types, tenant, time or position range, ...). */
  query: Omit<EventQuery, 'after' | 'direction' | 'limit'>
  /** The topic they are published to. */
  topic: string
  /** Events per `publishBatch`. @default 100 */
  batchSize?: number
  /** Stops the replay between batches. */
  signal?: AbortSignal
  /** Called after every batch. */
  onProgress?(progress: ReplayProgress): void
}

/**
 * Publishes stored events again, oldest first, unchanged (same ids, so consumers that dedupe
 * on id, and the archive, see each once). Covers what was committed when it started: events
 * appended meanwhile are not replayed.
 * @throws {ConfigurationError} for a missing topic or query; rejects when a publish fails.
 */
export async function replay(
  bus: ReplayTarget,
  store: ReplaySource,
  options: ReplayOptions,
): Promise<ReplayProgress> {
  if (typeof options?.topic !== 'string' || options.topic.length === 0) {
    throw new ConfigurationError('replay needs the topic to publish to', { field: 'topic' })
  }
  if (options.query === null || typeof options.query !== 'object') {
    throw new ConfigurationError('replay needs a query', { field: 'query' })
  }
  const batchSize = checkNumber(options.batchSize ?? 100, 'batchSize', { min: 1, integer: true })
  const head = (await store.readAll({ limit: 1 })).headPosition
  const bounded: EventQuery = {
    ...options.query,
    toPosition: Math.min(options.query.toPosition ?? head, head),
  }
  const progress: ReplayProgress = {
    total: await store.countEvents(bounded),
    published: 0,
    lastPosition: undefined,
  }
  let after: number | undefined
  for (;;) {
    if (options.signal?.aborted) break
    const page = await store.queryEvents({
      ...bounded,
      limit: batchSize,
      ...(after === undefined ? {} : { after }),
    })
    if (page.events.length > 0) {
      await bus.publishBatch(
        options.topic,
        page.events.map((e) => e.event),
      )
      progress.published += page.events.length
      progress.lastPosition = page.events[page.events.length - 1]!.position
      options.onProgress?.({ ...progress })
    }
    if (page.next === undefined) break
    after = page.next
  }
  return progress
}
