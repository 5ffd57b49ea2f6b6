import type { Delivery } from './delivery.js'
import type { Operator, StreamOutput, StreamRecord } from './operator.js'
import { lateEvent } from './results.js'
import type { KeyState, MemoryStream, OutboxItem } from './store.js'

/** The counters the in-process path keeps (the processor adds them to its own). */
export interface InProcessCounters {
  events: number
  duplicates: number
  late: number
  results: number
  batches: number
}

/**
 * Applies events to a memory store's maps inside the handler call: nothing to wait for, so
 * nothing to gather, and nothing allocated per event unless it closes a window or is late.
 */
export class InProcess {
  readonly counters: InProcessCounters = {
    events: 0,
    duplicates: 0,
    late: 0,
    results: 0,
    batches: 0,
  }
  private readonly out: StreamOutput[] = []

  constructor(
    private readonly name: string,
    private readonly operator: Operator,
    private readonly memory: MemoryStream,
    private readonly dedupMs: number,
    private readonly delivery: Delivery,
  ) {}

  /** Applies one record (skipped when its id was taken within dedupMs). */
  apply(record: StreamRecord, lateTopic: string): void {
    const mem = this.memory
    const c = this.counters
    if (!mem.seen.take(record.id, Date.now(), this.dedupMs)) {
      c.duplicates++
      return
    }
    let entry = mem.keys.get(record.key)
    if (entry === undefined) {
      entry = { version: 0, state: this.fresh() }
      mem.keys.set(record.key, entry)
    }
    entry.version++
    const state = entry.state
    if (record.t > state.wm) state.wm = record.t
    const out = this.out
    let added = false
    if (this.operator.apply(state.s, record, state.wm, out)) c.events++
    else {
      state.late++
      c.late++
      const event = lateEvent(this.name, record.event, state.wm)
      this.outbox({ id: record.id, late: { topic: lateTopic, event } })
      added = true
    }
    this.operator.advance(state.s, record.key, state.wm, out)
    c.batches++
    if (out.length > 0) {
      c.results += out.length
      for (const output of out) this.outbox({ id: output.id, output })
      out.length = 0
      added = true
    }
    if (!added) return
    for (const id of this.delivery.takeSent()) mem.out.delete(id)
    void this.delivery.flush()
  }

  private fresh(): KeyState {
    return { wm: Number.NEGATIVE_INFINITY, late: 0, s: this.operator.init() }
  }

  private outbox(item: OutboxItem): void {
    this.memory.out.set(item.id, item)
    this.delivery.add([item])
  }
}
