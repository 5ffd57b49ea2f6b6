import type { Logger } from '@switchyard/core'
import type { OutboxDriver, Queryable } from '@switchyard/outbox'
import type { AggregateRef, StoreNames } from './names.js'
import type { RecordedEvent } from './recorded.js'

/** Where appended events go through the outbox, resolved from the options. */
export interface OutboxTarget {
  /** The outbox table (`outbox`, or schema-qualified). */
  table: string
  /** The topic of a stream's events. */
  topicFor(streamId: string, aggregate: AggregateRef): string
}

/** What the store's parts share. */
export interface StoreContext {
  readonly driver: OutboxDriver
  readonly names: StoreNames
  readonly source: string | undefined
  readonly outbox: OutboxTarget | undefined
  readonly logger: Logger
  readonly pollIntervalMs: number
  /**
   * Prefix of the names of prepared statements, when the driver is `pgDriver` (whose pool and
   * transaction clients take named statements); undefined otherwise.
   */
  readonly prepared: string | undefined
  /** Whether any inline projection runs in appends. */
  readonly hasInline: boolean
  /** Runs the inline projections on events just appended, inside the append's transaction. */
  runInline(events: RecordedEvent[], tx: Queryable): Promise<void>
}
