import type { Operator, StreamOutput, StreamRecord } from './operator.js'
import { lateEvent } from './results.js'
import type { KeyState, LoadedState, OutboxItem, StoredKeyState } from './store.js'

/** What applying a batch to loaded state produced: the writes and the counters. */
export interface AppliedBatch {
  entries: { key: string; version: number; state: KeyState }[]
  outbox: OutboxItem[]
  taken: string[]
  events: number
  duplicates: number
  late: number
  results: number
}

/**
 * Applies records, in order, to their keys' loaded states: skips ids taken before, moves each
 * key's watermark, hands the record to the operator (late ones become outbox items for the
 * late-events topic), then lets the operator emit what the watermarks closed.
 */
export function applyBatch(
  stream: string,
  operator: Operator,
  records: readonly { record: StreamRecord; lateTopic: string }[],
  loaded: LoadedState,
): AppliedBatch {
  const seen = loaded.seen
  const states = new Map<string, StoredKeyState>()
  for (const { record } of records) {
    if (!states.has(record.key)) {
      const stored = loaded.states.get(record.key)
      states.set(record.key, stored ?? { version: 0, state: fresh(operator) })
    }
  }
  const outputs: StreamOutput[] = []
  const outbox: OutboxItem[] = []
  const taken: string[] = []
  let events = 0
  let duplicates = 0
  for (const { record, lateTopic } of records) {
    const state = (states.get(record.key) as StoredKeyState).state
    if (seen.has(record.id)) {
      duplicates++
      continue
    }
    seen.add(record.id)
    taken.push(record.id)
    if (record.t > state.wm) state.wm = record.t
    if (operator.apply(state.s, record, state.wm, outputs)) {
      events++
      continue
    }
    state.late++
    const event = lateEvent(stream, record.event, state.wm)
    outbox.push({ id: record.id, late: { topic: lateTopic, event } })
  }
  const late = outbox.length
  for (const [key, { state }] of states) operator.advance(state.s, key, state.wm, outputs)
  for (const output of outputs) outbox.push({ id: output.id, output })
  const entries = [...states].map(([key, s]) => ({ key, version: s.version, state: s.state }))
  return { entries, outbox, taken, events, duplicates, late, results: outputs.length }
}

function fresh(operator: Operator): KeyState {
  return { wm: Number.NEGATIVE_INFINITY, late: 0, s: operator.init() }
}
