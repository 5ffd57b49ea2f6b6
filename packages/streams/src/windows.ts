import { ConfigurationError } from '@switchyard/core'

/** Fixed, gap-less, non-overlapping windows of `size` ms, aligned to the epoch. */
export interface TumblingWindow {
  readonly kind: 'tumbling'
  readonly size: number
  readonly advance: number
}

/** Windows of `size` ms starting every `advance` ms (overlapping when advance < size). */
export interface HoppingWindow {
  readonly kind: 'hopping'
  readonly size: number
  readonly advance: number
}

/** Per-key activity sessions: a session ends after `gap` ms without an event. */
export interface SessionWindow {
  readonly kind: 'session'
  readonly gap: number
}

/** A window definition for `.window()`. */
export type WindowSpec = TumblingWindow | HoppingWindow | SessionWindow

function positive(value: number, field: string): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new ConfigurationError(`${field} must be a positive whole number of milliseconds`, {
      field,
    })
  }
  return value
}

/**
 * Tumbling windows: `[k·size, (k+1)·size)` in event time.
 * @example stream(bus, 'leave', { group: 'hourly' }).window(tumbling(3_600_000)).count()
 * @throws {ConfigurationError} unless size is a positive whole number of ms.
 */
export function tumbling(size: number): TumblingWindow {
  positive(size, 'tumbling.size')
  return { kind: 'tumbling', size, advance: size }
}

/**
 * Hopping windows of `size` ms, one starting every `advance` ms; an event counts in each window
 * that covers it (`size / advance` of them).
 * @throws {ConfigurationError} unless both are positive whole ms and advance ≤ size.
 */
export function hopping(size: number, advance: number): HoppingWindow {
  positive(size, 'hopping.size')
  positive(advance, 'hopping.advance')
  if (advance > size) {
    throw new ConfigurationError('hopping.advance must not exceed hopping.size', {
      field: 'hopping.advance',
    })
  }
  return { kind: 'hopping', size, advance }
}

/**
 * Session windows: events of a key less than `gap` ms apart fall in one session; sessions that
 * an out-of-order event bridges are merged.
 * @throws {ConfigurationError} unless gap is a positive whole number of ms.
 */
export function session(gap: number): SessionWindow {
  positive(gap, 'session.gap')
  return { kind: 'session', gap }
}
