import { resultId } from './ids.js'
import type { Operator, StreamOutput } from './operator.js'
import type { SessionWindow, WindowSpec } from './windows.js'

/** How values fold into a window's aggregate. */
export interface Aggregation<V, A> {
  /** The aggregate of an empty window. */
  init(): A
  /** Adds one value. */
  add(acc: A, value: V): A
  /** Joins two sessions' aggregates when an event bridges them (session windows only). */
  merge?: ((a: A, b: A) => A) | undefined
}

/** Options every windowed operator takes. */
export interface WindowOptions {
  /** How long after a window's end events are still accepted (event time, ms). @default 0 */
  grace?: number
  /** `early` also emits an update (`final: false`) each time a window changes. @default 'final' */
  emit?: 'final' | 'early'
}

/** [start, aggregate, events] of one open fixed window. */
type Fixed = [number, unknown, number]
/** [start, end (last event), aggregate, events] of one open session. */
type Session = [number, number, unknown, number]

/** One key's open windows. */
export interface WindowState {
  w: Fixed[] | Session[]
}

function output(
  name: string,
  key: string,
  start: number,
  end: number,
  data: unknown,
  final: boolean,
  revision: number,
): StreamOutput {
  const id = final ? resultId(name, key, start, end) : resultId(name, key, start, end, revision)
  return { id, kind: 'window', key, time: end - 1, start, end, final, data }
}

/** The operator behind `.window(...).aggregate/count/reduce`. */
export function windowOperator<V, A>(
  name: string,
  spec: WindowSpec,
  agg: Aggregation<V, A>,
  options: { grace: number; early: boolean },
): Operator<WindowState> {
  if (spec.kind === 'session') return sessionOperator(name, spec, agg, options)
  const { size, advance } = spec
  const { grace, early } = options
  /** From the last window start covering an event back to the first. */
  const span = Math.ceil(size / advance - 1) * advance
  return {
    init: () => ({ w: [] }),
    apply(state, record, wm, out) {
      const windows = state.w as Fixed[]
      const t = record.t
      // The windows that cover t, earliest first: one for tumbling, size / advance for hopping.
      // A plain loop, no array of starts and no closure per event.
      const last = Math.floor(t / advance) * advance
      let applied = false
      for (let start = last - span; start <= last; start += advance) {
        const end = start + size
        if (end <= t || end + grace <= wm) continue
        let w: Fixed | undefined
        for (let i = 0; i < windows.length; i++) {
          if ((windows[i] as Fixed)[0] === start) {
            w = windows[i]
            break
          }
        }
        if (w === undefined) {
          w = [start, agg.init(), 0]
          windows.push(w)
        }
        w[1] = agg.add(w[1] as A, record.value as V)
        w[2]++
        applied = true
        if (early) out.push(output(name, record.key, start, end, w[1], false, w[2]))
      }
      return applied
    },
    advance(state, key, wm, out) {
      const windows = state.w as Fixed[]
      // Most calls close nothing: look before sorting or allocating.
      let closing = false
      for (let i = 0; i < windows.length; i++) {
        if ((windows[i] as Fixed)[0] + size + grace <= wm) {
          closing = true
          break
        }
      }
      if (!closing) return
      const open: Fixed[] = []
      for (const w of windows.sort((a, b) => a[0] - b[0])) {
        const end = w[0] + size
        if (end + grace <= wm) out.push(output(name, key, w[0], end, w[1], true, w[2]))
        else open.push(w)
      }
      state.w = open
    },
  }
}

function sessionOperator<V, A>(
  name: string,
  spec: SessionWindow,
  agg: Aggregation<V, A>,
  options: { grace: number; early: boolean },
): Operator<WindowState> {
  const { gap } = spec
  const { grace, early } = options
  const merge = agg.merge as (a: A, b: A) => A
  return {
    init: () => ({ w: [] }),
    apply(state, record, wm, out) {
      const sessions = state.w as Session[]
      const t = record.t
      const touching: Session[] = []
      const rest: Session[] = []
      for (const s of sessions) {
        const open = s[1] + gap + grace > wm
        if (open && s[0] - gap <= t && t <= s[1] + gap) touching.push(s)
        else rest.push(s)
      }
      if (touching.length === 0 && t + gap + grace <= wm) return false
      let merged: Session = [t, t, agg.init(), 0]
      for (const s of touching.sort((a, b) => a[0] - b[0])) {
        const acc = merged[3] === 0 ? s[2] : merge(merged[2] as A, s[2] as A)
        merged = [Math.min(merged[0], s[0]), Math.max(merged[1], s[1]), acc, merged[3] + s[3]]
      }
      merged[2] = agg.add(merged[2] as A, record.value as V)
      merged[3]++
      rest.push(merged)
      state.w = rest
      if (early)
        out.push(output(name, record.key, merged[0], merged[1] + 1, merged[2], false, merged[3]))
      return true
    },
    advance(state, key, wm, out) {
      const sessions = state.w as Session[]
      if (sessions.length === 0) return
      const open: Session[] = []
      for (const s of sessions.sort((a, b) => a[0] - b[0])) {
        if (s[1] + gap + grace <= wm) out.push(output(name, key, s[0], s[1] + 1, s[2], true, s[3]))
        else open.push(s)
      }
      state.w = open
    },
  }
}
