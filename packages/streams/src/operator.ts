import type { EventEnvelope } from '@switchyard/core'

/** One event inside a processor: keyed, with its event time and the value the DSL made of it. */
export interface StreamRecord {
  /** The event id: what de-duplicates redeliveries. */
  readonly id: string
  /** Event time, ms since the epoch (the envelope's `time`). */
  readonly t: number
  /** The stream key (`keyBy`). */
  readonly key: string
  /** The value after `map`. */
  readonly value: unknown
  /** 0 for the stream itself, 1 for the other side of a join. */
  readonly side: 0 | 1
  /** The event as received. */
  readonly event: EventEnvelope
}

/** A result an operator produced: becomes an event (`to`) or a callback (`forEach`). */
export interface StreamOutput {
  /** Deterministic: the same input gives the same id, so downstream dedup makes it once. */
  readonly id: string
  /** What made it: `window`, `join`, `followed`, `absent`, `threshold`, `event`. */
  readonly kind: string
  /** The stream key. */
  readonly key: string
  /** Event time of the result, ms since the epoch. */
  readonly time: number
  /** Window bounds, ms since the epoch, when the result belongs to a window. */
  readonly start?: number
  /** @see start */
  readonly end?: number
  /** False for an early update of a window that is still open. */
  readonly final: boolean
  /** The result itself. */
  readonly data: unknown
}

/**
 * A stateful step over one key's state. `apply` sees each record in per-key order with the key's
 * watermark already moved past it, so lateness depends on the key's own history only: the same
 * per-key input gives the same results whatever other keys do.
 */
export interface Operator<S = unknown> {
  /** State of a key seen for the first time. */
  init(): S
  /** Applies a record; returns false when it is late (its windows or buffers closed already). */
  apply(state: S, record: StreamRecord, watermark: number, out: StreamOutput[]): boolean
  /** Emits what the watermark closed and forgets it. Called once per key and batch. */
  advance(state: S, key: string, watermark: number, out: StreamOutput[]): void
}
