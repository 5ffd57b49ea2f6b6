import {
  type EventBus,
  type EventEnvelope,
  type Outcome,
  outcome,
  type Subscription,
  SwitchyardError,
  toError,
} from '@switchyard/core'
import { Delivery, type Sink } from './delivery.js'
import type { Operator, StreamOutput, StreamRecord } from './operator.js'
import { lateEvent } from './results.js'
import { runSteps, type Step } from './steps.js'
import type { KeyState, OutboxItem, StateStore, StoredKeyState } from './store.js'

/** One input of a processor: a topic and the steps that key and shape its events. */
export interface Source {
  topic: string
  side: 0 | 1
  steps: readonly Step[]
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
  lateTopic: ((topic: string) => string) | undefined
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
  source: Source
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

  /** @internal Made by `.to()` / `.forEach()`. */
  constructor(init: ProcessorInit) {
    this.init = init
    this.name = init.name
    this.delivery = new Delivery(init.bus, init.name, init.sink)
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
    return new Promise((resolve, reject) => {
      this.queue.push({ record, source, resolve, reject })
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
    const { store, operator } = this.init
    const keys = [...new Set(batch.map((p) => p.record.key))]
    const ids = batch.map((p) => p.record.id)
    for (let attempt = 1; ; attempt++) {
      const loaded = await store.load(this.name, keys, ids)
      const seen = loaded.seen
      const taken: string[] = []
      const states = new Map<string, StoredKeyState>()
      for (const key of keys) {
        states.set(key, loaded.states.get(key) ?? { version: 0, state: fresh(operator) })
      }
      const outputs: StreamOutput[] = []
      const outbox: OutboxItem[] = []
      let events = 0
      let duplicates = 0
      for (const { record, source } of batch) {
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
        const topic = this.init.lateTopic?.(source.topic) ?? `${source.topic}.late`
        outbox.push({
          id: record.id,
          late: { topic, event: lateEvent(this.name, record.event, state.wm) },
        })
      }
      for (const [key, { state }] of states) {
        operator.advance(state.s, key, state.wm, outputs)
      }
      for (const output of outputs) outbox.push({ id: output.id, output })
      const sent = this.delivery.takeSent()
      const entries = [...states].map(([key, s]) => ({ key, version: s.version, state: s.state }))
      const change = { entries, outbox, sent, seen: taken, dedupMs: this.init.dedupMs }
      if (await store.commit(this.name, change)) {
        const c = this.counters
        c.events += events
        c.duplicates += duplicates
        c.late += outbox.length - outputs.length
        c.results += outputs.length
        c.batches++
        this.delivery.add(outbox)
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
}

function fresh(operator: Operator): KeyState {
  return { wm: Number.NEGATIVE_INFINITY, late: 0, s: operator.init() }
}
