import { resultId } from './ids.js'
import type { Operator } from './operator.js'

/** [event id, event time, value] of a buffered join side. */
type Buffered = [string, number, unknown]

/** One key's buffered events of both sides. */
export interface JoinState {
  l: Buffered[]
  r: Buffered[]
}

/** A matched pair of a windowed join. */
export interface JoinResult<L, R> {
  /** The value of this stream's event. */
  left: L
  /** The value of the other stream's event. */
  right: R
  /** `right`'s event time minus `left`'s, ms. */
  deltaMs: number
}

/**
 * The operator behind `.join()`: an inner join of two keyed streams whose events lie at most
 * `within` ms apart. Each pair is emitted once, as soon as its second event arrives; its id is
 * made of both event ids.
 */
export function joinOperator(
  name: string,
  within: number,
  grace: number,
  on: ((left: unknown, right: unknown) => boolean) | undefined,
): Operator<JoinState> {
  return {
    init: () => ({ l: [], r: [] }),
    apply(state, record, wm, out) {
      const { t } = record
      if (t + within + grace <= wm) return false
      const mine: Buffered = [record.id, t, record.value]
      const left = record.side === 0
      ;(left ? state.l : state.r).push(mine)
      for (const other of left ? state.r : state.l) {
        if (Math.abs(other[1] - t) > within) continue
        const [l, r] = left ? [mine, other] : [other, mine]
        if (on !== undefined && !on(l[2], r[2])) continue
        out.push({
          id: resultId(name, l[0], r[0]),
          kind: 'join',
          key: record.key,
          time: Math.max(l[1], r[1]),
          start: Math.min(l[1], r[1]),
          end: Math.max(l[1], r[1]) + 1,
          final: true,
          data: { left: l[2], right: r[2], deltaMs: r[1] - l[1] },
        })
      }
      return true
    },
    advance(state, _key, wm) {
      const keep = (b: Buffered) => b[1] + within + grace > wm
      if (state.l.length > 0) state.l = state.l.filter(keep)
      if (state.r.length > 0) state.r = state.r.filter(keep)
    },
  }
}
