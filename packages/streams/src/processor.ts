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
import { InProcess } from './in-process.js'
import { KeyCache } from './key-cache.js'
import type { Operator, StreamRecord } from './operator.js'
import { runSteps, type Shaped, type Step } from './steps.js'
import {
  inProcess,
  type LoadedState,
  type StateChange,
  type StateStore,
  type StoredKeyState,
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

/** One record and where it goes when late. */
interface Item {
  record: StreamRecord
  lateTopic: string
}

/** One handler batch waiting for its commit. */
interface Pending {
  items: Item[]
  /** The stream keys of its items. */
  keys: Set<string>
  resolve: () => void
  reject: (error: unknown) => void
}

/** A StreamRecord being filled (the memory path reuses one for every event). */
type MutableRecord = { -readonly [K in keyof StreamRecord]: StreamRecord[K] }

const newRecord = (): MutableRecord => ({
  id: '',
  t: 0,
  key: '',
  value: undefined,
  side: 0,
  event: undefined as unknown as EventEnvelope,
})

const MAX_ATTEMPTS = 50
/** Results waiting for delivery past which a batch waits for them. */
const MAX_BACKLOG = 10_000
const NOTHING_LOADED: LoadedState = { states: new Map(), seen: new Set() }

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
  /** Stream keys of the batches being committed: a batch with one of them waits its turn. */
  private readonly busy = new Set<string>()
  private closing: Promise<void> | undefined
  /** Applies events to a memory store's maps inside the handler call (no I/O, no batches). */
  private readonly now: InProcess | undefined
  /** States of a durable store committed by this processor, so a batch reads only new keys. */
  private readonly cache = new KeyCache()
  /** What `runSteps` wrote for the event being shaped. */
  private readonly shaped: Shaped = { key: '', value: undefined }
  /** The memory path's one record, refilled for every event. */
  private readonly record = newRecord()

  /** @internal Made by `.to()` / `.forEach()`. */
  constructor(init: ProcessorInit) {
    this.init = init
    this.name = init.name
    this.delivery = new Delivery(init.bus, init.name, init.sink)
    const memory = inProcess.get(init.store)?.(init.name)
    if (memory !== undefined) {
      this.now = new InProcess(init.name, init.operator, memory, init.dedupMs, this.delivery)
    }
  }

  /**
   * @internal Delivers what a previous run committed and did not deliver, then subscribes: one
   * event per handler call with a memory store, batches (`subscribe`'s `batch` option) with a
   * durable one, so that each batch is one read of new keys and one atomic write.
   */
  async start(): Promise<void> {
    const { bus, store, group, subscribe, maxBatch } = this.init
    this.delivery.add(await store.outbox(this.name))
    await this.delivery.flush()
    const startAt = subscribe.startAt as 'earliest'
    for (const source of this.init.sources) {
      let sub: Subscription
      if (this.now !== undefined) {
        sub = await bus.subscribe(source.topic, (event) => this.offerNow(event, source), {
          group,
          concurrency: subscribe.concurrency,
          prefetch: subscribe.prefetch,
          startAt,
        })
      } else {
        // `concurrency` events at once, in batches of up to maxBatch.
        const maxSize = Math.min(subscribe.concurrency, maxBatch)
        sub = await bus.subscribe(source.topic, (events) => this.offerBatch(events, source), {
          group,
          concurrency: Math.ceil(subscribe.concurrency / maxSize),
          prefetch: subscribe.prefetch,
          startAt,
          batch: { maxSize },
        })
      }
      this.subscriptions.push(sub)
    }
  }

  /** Counters since this processor started. */
  stats(): ProcessorStats {
    const c = { ...this.counters }
    if (this.now !== undefined) {
      const n = this.now.counters
      c.events += n.events
      c.duplicates += n.duplicates
      c.late += n.late
      c.results += n.results
      c.batches += n.batches
    }
    return c
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

  /**
   * Fills `into` from an event: true to process it, undefined when a filter dropped it, or the
   * dead-letter outcome of a step that threw or a time that does not parse.
   */
  private shape(
    event: EventEnvelope,
    source: Source,
    into: MutableRecord,
  ): true | Outcome | undefined {
    const shaped = this.shaped
    const kept = runSteps(source.steps, event, shaped)
    if (kept === false) return undefined
    if (kept !== true) return outcome.deadLetter(`stream "${this.name}": ${kept.message}`, kept)
    const t = Date.parse(event.time)
    if (!Number.isFinite(t)) {
      return outcome.deadLetter(
        `stream "${this.name}": event time ${JSON.stringify(event.time)} does not parse`,
      )
    }
    into.id = event.id
    into.t = t
    into.key = shaped.key
    into.value = shaped.value
    into.side = source.side
    into.event = event
    return true
  }

  /** One event into a memory store, inside the handler call. */
  private offerNow(event: EventEnvelope, source: Source): Outcome | undefined {
    const record = this.record
    const shaped = this.shape(event, source, record)
    if (shaped !== true) return shaped
    ;(this.now as InProcess).apply(record, source.lateTopic)
    // Nothing keeps the record: the next event refills it.
    record.value = undefined
    record.event = undefined as unknown as EventEnvelope
    return undefined
  }

  /** A batch of events for a durable store: settled once its state is committed. */
  private offerBatch(
    events: readonly EventEnvelope[],
    source: Source,
  ): Promise<(Outcome | undefined)[] | undefined> | (Outcome | undefined)[] | undefined {
    let outcomes: (Outcome | undefined)[] | undefined
    const items: Item[] = []
    for (let i = 0; i < events.length; i++) {
      const record = newRecord()
      const shaped = this.shape(events[i] as EventEnvelope, source, record)
      if (shaped === true) items.push({ record, lateTopic: source.lateTopic })
      else if (shaped !== undefined) {
        outcomes ??= new Array<Outcome | undefined>(events.length).fill(undefined)
        outcomes[i] = shaped
      }
    }
    if (items.length === 0) return outcomes
    const keys = new Set<string>()
    for (const item of items) keys.add(item.record.key)
    return new Promise((resolve, reject) => {
      this.queue.push({ items, keys, resolve: () => resolve(outcomes), reject })
      this.pump()
    })
  }

  /**
   * Starts a commit of the queued batches whose keys no earlier batch (being committed or still
   * queued) has, together up to maxBatch events: batches of other keys commit side by side, and
   * the batches of one key one after another, in arrival order.
   */
  private pump(): void {
    const queue = this.queue
    if (queue.length === 0) return
    const blocked = new Set(this.busy)
    const taken: Pending[] = []
    let size = 0
    for (let i = 0; i < queue.length; ) {
      const p = queue[i] as Pending
      let clear = taken.length === 0 || size + p.items.length <= this.init.maxBatch
      if (clear) for (const key of p.keys) if (blocked.has(key)) clear = false
      if (clear) {
        taken.push(p)
        size += p.items.length
        queue.splice(i, 1)
      } else {
        for (const key of p.keys) blocked.add(key)
        i++
      }
    }
    if (taken.length > 0) void this.run(taken)
  }

  private async run(taken: Pending[]): Promise<void> {
    const items = taken.length === 1 ? (taken[0] as Pending).items : taken.flatMap((p) => p.items)
    const keys = [...new Set(items.map((i) => i.record.key))]
    for (const key of keys) this.busy.add(key)
    try {
      await this.process(items, keys)
      for (const p of taken) p.resolve()
    } catch (error) {
      this.init.bus.logger.error(
        { stream: this.name, store: this.init.store.name, error: toError(error).message },
        'stream batch failed; its events will be redelivered',
      )
      for (const p of taken) p.reject(error)
    } finally {
      for (const key of keys) this.busy.delete(key)
      this.pump()
    }
  }

  /**
   * Applies a batch to its keys' states and commits it: one write, plus one read of the keys not
   * cached. A store that checks taken ids on commit (`checksSeen`) is asked about ids only after
   * it refused a commit; a refused or failed commit drops the batch's keys from the cache.
   */
  private async process(items: readonly Item[], keys: readonly string[]): Promise<void> {
    const { store } = this.init
    const cache = this.cache
    const ids = items.map((i) => i.record.id)
    let refused = false
    for (let attempt = 1; ; attempt++) {
      const lookUp = refused || store.checksSeen !== true
      const missing = keys.filter((k) => !cache.has(k))
      const loaded =
        missing.length > 0 || lookUp
          ? await store.load(this.name, missing, lookUp ? ids : [])
          : NOTHING_LOADED
      // A refusal with none of the ids taken before was a newer version of a key.
      if (refused && (store.checksSeen !== true || loaded.seen.size === 0)) {
        this.counters.conflicts++
      }
      const states = new Map<string, StoredKeyState>()
      for (const key of keys) {
        const state = cache.get(key) ?? loaded.states.get(key)
        if (state !== undefined) states.set(key, state)
      }
      const seen = loaded === NOTHING_LOADED ? new Set<string>() : loaded.seen
      let done = false
      try {
        const applied = applyBatch(this.name, this.init.operator, items, { states, seen })
        const sent = this.delivery.takeSent()
        done = await store.commit(this.name, this.change(applied, sent)).catch((error) => {
          this.delivery.restoreSent(sent)
          throw error
        })
        if (done) {
          cache.committed(applied.entries)
          this.committed(applied)
          // The outbox is committed: delivery may trail the acknowledgements, within a bound.
          const delivered = this.delivery.flush()
          if (this.delivery.backlog > MAX_BACKLOG) await delivered
          return
        }
        this.delivery.restoreSent(sent)
      } finally {
        // The attempt changed the states in place: read them again next time.
        if (!done) cache.drop(keys)
      }
      refused = true
      if (attempt >= MAX_ATTEMPTS) {
        throw new StateConflictError(
          `stream "${this.name}": ${attempt} commits in a row met a newer version of a key; is a second processor of this stream changing the same keys?`,
        )
      }
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
