import {
  type EventBus,
  type EventEnvelope,
  type Outcome,
  outcome,
  type Subscription,
  SwitchyardError,
  toError,
} from '@switchyard/core'
import { type AppliedBatch, applyBatch } from './batch.js'
import { Delivery, type Sink } from './delivery.js'
import type { Operator, StreamOutput, StreamRecord } from './operator.js'
import { lateEvent } from './results.js'
import { runSteps, type Step } from './steps.js'
import {
  inProcess,
  type MemoryStream,
  type OutboxItem,
  type StateChange,
  type StateStore,
} from './store.js'

/** One input of a processor: a topic and the steps that key and shape its events. */
export interface Source {
  topic: string
  side: 0 | 1
  steps: readonly Step[]
  /** Where this source's late events go. */
  lateTopic: string
}

/** Everything a processor is made of (assembled by the DSL). */
export interface ProcessorInit {
  bus: EventBus
  name: string
  group: string
  store: StateStore
  operator: Operator
  sources: readonly Source[]
  sink: Sink
  subscribe: { concurrency: number; prefetch: number; startAt: NonNullable<unknown> }
  maxBatch: number
  dedupMs: number
}

/** Counters of a running processor. */
export interface ProcessorStats {
  /** Events applied to state. */
  events: number
  /** Redeliveries recognised by id and skipped. */
  duplicates: number
  /** Events too late for their windows, sent to the late-events topic. */
  late: number
  /** Results produced (each once; a redelivered result after a restart is not counted). */
  results: number
  /** Batches committed to the store. */
  batches: number
  /** Commits refused because another process changed a key first (then retried). */
  conflicts: number
}

/** Raised when a batch cannot be committed after many version conflicts in a row. */
export class StateConflictError extends SwitchyardError {
  override readonly name = 'StateConflictError'
}

interface Pending {
  record: StreamRecord
  lateTopic: string
  resolve: () => void
  reject: (error: unknown) => void
}

const MAX_ATTEMPTS = 50
/** Results waiting for delivery past which a batch waits for them. */
const MAX_BACKLOG = 10_000

/**
 * A running stream processor: subscriptions feeding a stateful operator, in batches committed
 * to a store, results delivered from the committed outbox. Close it to stop.
 */
export class Processor implements AsyncDisposable {
  /** The stream's name: state namespace and part of every result id. */
  readonly name: string
  private readonly init: ProcessorInit
  private readonly delivery: Delivery
  private readonly counters: ProcessorStats = {
    events: 0,
    duplicates: 0,
    late: 0,
    results: 0,
    batches: 0,
    conflicts: 0,
  }
  private subscriptions: Subscription[] = []
  private queue: Pending[] = []
  private running = false
  private closing: Promise<void> | undefined
  /** The memory store's maps, when the store is one (see `processNow`). */
  private readonly memory: MemoryStream | undefined
  private readonly scratch: StreamOutput[] = []
  private sinceForget = 0

  /** @internal Made by `.to()` / `.forEach()`. */
  constructor(init: ProcessorInit) {
    this.init = init
    this.name = init.name
    this.delivery = new Delivery(init.bus, init.name, init.sink)
    this.memory = inProcess.get(init.store)?.(init.name)
  }

  /** @internal Delivers what a previous run committed and did not deliver, then subscribes. */
  async start(): Promise<void> {
    const { bus, store, group, subscribe } = this.init
    this.delivery.add(await store.outbox(this.name))
    await this.delivery.flush()
    for (const source of this.init.sources) {
      const sub = await bus.subscribe(source.topic, (event) => this.offer(event, source), {
        group,
        concurrency: subscribe.concurrency,
        prefetch: subscribe.prefetch,
        startAt: subscribe.startAt as 'earliest',
      })
      this.subscriptions.push(sub)
    }
  }

  /** Counters since this processor started. */
  stats(): ProcessorStats {
    return { ...this.counters }
  }

  /** Stops the subscriptions (running batches finish and are acknowledged), then delivers what is left. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled(this.subscriptions.map((s) => s.close()))
      await this.delivery.flush()
      const sent = this.delivery.takeSent()
      if (sent.length > 0) {
        await this.init.store
          .commit(this.name, { entries: [], outbox: [], sent, seen: [], dedupMs: 0 })
          .catch(() => false)
      }
    })()
    return this.closing
  }

  /** `await using p = await stream(...).to(...)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  private offer(event: EventEnvelope, source: Source): Promise<void> | Outcome | undefined {
    const shaped = runSteps(source.steps, event)
    if (shaped === undefined) return undefined
    if (shaped instanceof Error) {
      return outcome.deadLetter(`stream "${this.name}": ${shaped.message}`, shaped)
    }
    const t = Date.parse(event.time)
    if (!Number.isFinite(t)) {
      return outcome.deadLetter(
        `stream "${this.name}": event time ${JSON.stringify(event.time)} does not parse`,
      )
    }
    const record: StreamRecord = {
      id: event.id,
      t,
      key: shaped.key,
      value: shaped.value,
      side: source.side,
      event,
    }
    const lateTopic = source.lateTopic
    if (!this.running && this.processNow(record, lateTopic)) return undefined
    return new Promise((resolve, reject) => {
      this.queue.push({ record, lateTopic, resolve, reject })
      if (!this.running) {
        this.running = true
        queueMicrotask(() => void this.loop())
      }
    })
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.init.maxBatch)
      try {
        await this.process(batch)
        for (const p of batch) p.resolve()
      } catch (error) {
        this.init.bus.logger.error(
          { stream: this.name, store: this.init.store.name, error: toError(error).message },
          'stream batch failed; its events will be redelivered',
        )
        for (const p of batch) p.reject(error)
      }
    }
    this.running = false
  }

  private async process(batch: Pending[]): Promise<void> {
    const { store } = this.init
    const keys = [...new Set(batch.map((p) => p.record.key))]
    const ids = batch.map((p) => p.record.id)
    for (let attempt = 1; ; attempt++) {
      const loaded = await store.load(this.name, keys, ids)
      const applied = applyBatch(this.name, this.init.operator, batch, loaded)
      const sent = this.delivery.takeSent()
      if (await store.commit(this.name, this.change(applied, sent))) {
        this.committed(applied)
        // The outbox is committed: delivery may trail the acknowledgements, within a bound.
        const delivered = this.delivery.flush()
        if (this.delivery.backlog > MAX_BACKLOG) await delivered
        return
      }
      this.delivery.restoreSent(sent)
      this.counters.conflicts++
      if (attempt >= MAX_ATTEMPTS) {
        throw new StateConflictError(
          `stream "${this.name}": ${attempt} commits in a row met a newer version of a key; is a second processor of this stream changing the same keys?`,
        )
      }
    }
  }

  /**
   * With an in-process store there is nothing to wait for: the event is applied to the store's
   * maps inside the handler call, with none of a batch's bookkeeping.
   */
  private processNow(record: StreamRecord, lateTopic: string): boolean {
    const mem = this.memory
    if (mem === undefined) return false
    const now = Date.now()
    if ((mem.seen.get(record.id) ?? 0) > now) {
      this.counters.duplicates++
      return true
    }
    mem.seen.set(record.id, now + this.init.dedupMs)
    if (++this.sinceForget >= 1_000) this.forget(mem.seen, now)
    let entry = mem.keys.get(record.key)
    if (entry === undefined) {
      entry = {
        version: 0,
        state: { wm: Number.NEGATIVE_INFINITY, late: 0, s: this.init.operator.init() },
      }
      mem.keys.set(record.key, entry)
    }
    entry.version++
    const state = entry.state
    if (record.t > state.wm) state.wm = record.t
    const out = this.scratch
    out.length = 0
    const c = this.counters
    if (this.init.operator.apply(state.s, record, state.wm, out)) c.events++
    else {
      state.late++
      c.late++
      const event = lateEvent(this.name, record.event, state.wm)
      this.outboxNow(mem, { id: record.id, late: { topic: lateTopic, event } })
    }
    this.init.operator.advance(state.s, record.key, state.wm, out)
    c.batches++
    if (out.length === 0) return true
    c.results += out.length
    for (const output of out) this.outboxNow(mem, { id: output.id, output })
    for (const id of this.delivery.takeSent()) mem.out.delete(id)
    void this.delivery.flush()
    return true
  }

  private outboxNow(mem: MemoryStream, item: OutboxItem): void {
    mem.out.set(item.id, item)
    this.delivery.add([item])
  }

  /** Forgets expired ids: all have the same lifetime, so the oldest come first. */
  private forget(seen: Map<string, number>, now: number): void {
    this.sinceForget = 0
    for (const [id, until] of seen) {
      if (until > now) return
      seen.delete(id)
    }
  }

  private change(applied: AppliedBatch, sent: string[]): StateChange {
    const { entries, outbox, taken } = applied
    return { entries, outbox, sent, seen: taken, dedupMs: this.init.dedupMs }
  }

  private committed(applied: AppliedBatch): void {
    const c = this.counters
    c.events += applied.events
    c.duplicates += applied.duplicates
    c.late += applied.late
    c.results += applied.results
    c.batches++
    if (applied.outbox.length > 0) this.delivery.add(applied.outbox)
  }
}
