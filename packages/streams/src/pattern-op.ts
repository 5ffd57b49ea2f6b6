import { ConfigurationError } from '@switchyard/core'
import { resultId } from './ids.js'
import type { Operator, StreamOutput } from './operator.js'
import { type WindowState, windowOperator } from './window-op.js'
import type { WindowSpec } from './windows.js'

/** A CEP pattern for `.pattern()`: builds its operator once the stream is named. */
export interface Pattern<V, R> {
  /** @internal */
  readonly make: (name: string, grace: number) => Operator
  /** Carries the types only: a pattern over a wider value type fits a narrower stream. */
  readonly types?: (value: V) => R
}

/** Options of `followedBy` and `notFollowedBy`. */
export interface SequenceOptions<V> {
  /** Longest time from the first event to the second, ms. */
  within: number
  /** Correlates the two events beyond sharing a key (e.g. same employee id). */
  where?: (first: V, then: V) => boolean
}

/** A match of `followedBy`: the first event and the first matching event that arrived after it. */
export interface FollowedMatch<V> {
  /** The value of the first event. */
  first: V
  /** The value of the event that followed. */
  next: V
  /** Time between them, ms. */
  elapsedMs: number
}

/** A match of `notFollowedBy`: the event that was not followed in time. */
export interface AbsenceMatch<V> {
  /** The value of the first event. */
  first: V
  /** Until when the second event was awaited, ms since the epoch. */
  deadline: number
}

/** A match of `atLeast`: a window in which at least the threshold of events occurred. */
export interface ThresholdMatch {
  /** Events counted in the window. */
  count: number
}

/** [id, time, value] of a waiting first event or a buffered second event. */
type Held = [string, number, unknown]

interface SequenceState {
  a: Held[]
  b: Held[]
}

function checkWithin(within: unknown, field: string): number {
  if (typeof within !== 'number' || !Number.isInteger(within) || within <= 0) {
    throw new ConfigurationError(`${field}.within must be a positive whole number of ms`, { field })
  }
  return within
}

function sequence<V>(
  kind: 'followed' | 'absent',
  first: (v: V) => boolean,
  then: (v: V) => boolean,
  options: SequenceOptions<V>,
): Pattern<V, never> {
  const within = checkWithin(options?.within, kind === 'followed' ? 'followedBy' : 'notFollowedBy')
  const where = options.where
  const fits = (a: Held, b: Held) =>
    a[1] <= b[1] && b[1] <= a[1] + within && (where === undefined || where(a[2] as V, b[2] as V))
  const make = (name: string, grace: number): Operator<SequenceState> => ({
    init: () => ({ a: [], b: [] }),
    apply(state, record, wm, out) {
      const { t } = record
      if (t + within + grace <= wm) return false
      const held: Held = [record.id, t, record.value]
      if (then(record.value as V)) {
        state.b.push(held)
        state.a = state.a.filter((a) => {
          if (!fits(a, held)) return true
          if (kind === 'followed') out.push(followed(name, record.key, a, held))
          return false
        })
      }
      if (first(record.value as V)) {
        const match = state.b.filter((b) => fits(held, b)).sort((x, y) => x[1] - y[1])[0]
        if (match === undefined) state.a.push(held)
        else if (kind === 'followed') out.push(followed(name, record.key, held, match))
      }
      return true
    },
    advance(state, key, wm, out) {
      if (state.a.length > 0) {
        state.a = state.a.filter((a) => {
          if (a[1] + within + grace > wm) return true
          if (kind === 'absent') out.push(absent(name, key, a, a[1] + within))
          return false
        })
      }
      if (state.b.length > 0) state.b = state.b.filter((b) => b[1] + within + grace > wm)
    },
  })
  return { make: make as (name: string, grace: number) => Operator }
}

function followed(name: string, key: string, a: Held, b: Held): StreamOutput {
  const data = { first: a[2], next: b[2], elapsedMs: b[1] - a[1] }
  const id = resultId(name, 'followed', a[0], b[0])
  return { id, kind: 'followed', key, time: b[1], final: true, data }
}

function absent(name: string, key: string, a: Held, deadline: number): StreamOutput {
  const data = { first: a[2], deadline }
  const id = resultId(name, 'absent', a[0])
  return { id, kind: 'absent', key, time: deadline, final: true, data }
}

/**
 * "A then B within T": emits `{ first, next, elapsedMs }` when an event matching `then` arrives
 * at most `within` ms (event time) after a waiting event matching `first` of the same key. Each
 * first event matches once, with the first such event to arrive.
 * @throws {ConfigurationError} unless `within` is a positive whole number of ms.
 */
export function followedBy<V>(
  first: (value: V) => boolean,
  then: (value: V) => boolean,
  options: SequenceOptions<V>,
): Pattern<V, FollowedMatch<V>> {
  return sequence('followed', first, then, options)
}

/**
 * "A not followed by B within T": emits `{ first, deadline }` once the key's watermark passes
 * `first.time + within + grace` and no matching `then` event came in between.
 * @throws {ConfigurationError} unless `within` is a positive whole number of ms.
 */
export function notFollowedBy<V>(
  first: (value: V) => boolean,
  then: (value: V) => boolean,
  options: SequenceOptions<V>,
): Pattern<V, AbsenceMatch<V>> {
  return sequence('absent', first, then, options)
}

/**
 * "At least `count` events in a window": a windowed count of the events matching `where` (all
 * when omitted) that emits `{ count }` for each closed window that reached the threshold.
 * @throws {ConfigurationError} unless `count` is a positive whole number.
 */
export function atLeast<V>(
  count: number,
  options: { window: WindowSpec; where?: (value: V) => boolean },
): Pattern<V, ThresholdMatch> {
  if (!Number.isInteger(count) || count < 1) {
    throw new ConfigurationError('atLeast count must be a positive whole number', {
      field: 'atLeast.count',
    })
  }
  const where = options.where
  const make = (name: string, grace: number): Operator => {
    const inner = windowOperator<unknown, number>(
      name,
      options.window,
      {
        init: () => 0,
        add: (n, v) => (where === undefined || where(v as V) ? n + 1 : n),
        merge: (a, b) => a + b,
      },
      { grace, early: false },
    )
    const op: Operator<WindowState> = {
      init: inner.init,
      apply: inner.apply,
      advance(state, key, wm, out) {
        const closed: StreamOutput[] = []
        inner.advance(state, key, wm, closed)
        for (const o of closed) {
          const n = o.data as number
          if (n >= count) out.push({ ...o, kind: 'threshold', data: { count: n } })
        }
      },
    }
    return op as Operator
  }
  return { make }
}
