import { resultId } from './ids.js'
import type { Operator } from './operator.js'

/** No stateful step: each value is a result of its own, with an id derived from the event's. */
export function passThrough(name: string): Operator<null> {
  return {
    init: () => null,
    apply(_state, record, _wm, out) {
      out.push({
        id: resultId(name, 'event', record.id),
        kind: 'event',
        key: record.key,
        time: record.t,
        final: true,
        data: record.value,
      })
      return true
    },
    advance() {},
  }
}
