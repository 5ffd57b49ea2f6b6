import {
  ConfigurationError,
  type EventBus,
  EventBus as EventBusClass,
  type EventEnvelope,
  type StartAt,
} from '@switchyard/core'
import { checkKeys, checkNumber, checkString } from '@switchyard/core/transport'
import type { Sink } from './delivery.js'
import { type JoinResult, joinOperator } from './join-op.js'
import type { Operator } from './operator.js'
import { passThrough } from './pass-through.js'
import type { Pattern } from './pattern-op.js'
import { Processor, type Source } from './processor.js'
import type { StreamResult } from './results.js'
import type { Step } from './steps.js'
import { memoryStore, type StateStore } from './store.js'
import { type Aggregation, type WindowOptions, windowOperator } from './window-op.js'
import type { WindowSpec } from './windows.js'

/** Options of `stream()`. */
export interface StreamOptions {
  /** Consumer group of the processor's subscriptions (processes of one group share the keys). */
  group: string
  /** Names the state and goes into every result id; change it and results start afresh. @default group */
  name?: string
  /** Where state lives. @default memoryStore() (lost with the process) */
  store?: StateStore
  /** Topic for events too late for their windows. @default `${topic}.late` */
  lateTopic?: string
  /** Where a new group starts reading. @default 'earliest' */
  startAt?: StartAt
  /** Events handled at once (a batch gathers them); same partition key stays in order. @default 64 */
  concurrency?: number
  /** Events fetched ahead. @default 4 × concurrency */
  prefetch?: number
  /** Most events committed in one store write. @default 1000 */
  maxBatch?: number
  /**
   * How long (wall-clock ms) the ids of taken events are remembered, so that a redelivery (after
   * a crash, a rebalance, a producer retry) is skipped instead of counted twice. @default 600_000
   */
  dedupMs?: number
}

const OPTION_KEYS = [
  'group',
  'name',
  'store',
  'lateTopic',
  'startAt',
  'concurrency',
  'prefetch',
  'maxBatch',
  'dedupMs',
]

interface Origin {
  bus: EventBus
  topic: string
  options: StreamOptions
}

/** Options of `.join()`. */
export interface JoinOptions<L, R> {
  /** Most time between the two events of a pair, ms (either order). */
  within: number
  /** Extra condition on a pair beyond an equal key. */
  on?: (left: L, right: R) => boolean
  /** How long after `within` late events are still matched, ms. @default 0 */
  grace?: number
}

function grace(value: number | undefined, field: string): number {
  return checkNumber(value ?? 0, field, { min: 0, integer: true })
}

/**
 * Starts a stream over `topic`, read by consumer group `group`: chain stateless steps, then one
 * stateful step (window, join or pattern), then `to(topic)` or `forEach(fn)`.
 * @example
 * const processor = await stream(bus, 'leave.requests', { group: 'leave-per-hour' })
 *   .keyBy((e) => e.data.department)
 *   .window(tumbling(3_600_000), { grace: 60_000 })
 *   .count()
 *   .to('leave.requests.hourly')
 * @throws {ConfigurationError} for an unknown option or a value out of range.
 */
export function stream<T = unknown>(
  bus: EventBus,
  topic: string,
  options: StreamOptions,
): Stream<EventEnvelope<T>> {
  if (!(bus instanceof EventBusClass)) {
    throw new ConfigurationError('stream() needs an EventBus as its first argument', {
      field: 'bus',
    })
  }
  checkString(topic, 'stream.topic')
  if (options === null || typeof options !== 'object') {
    throw new ConfigurationError('stream() needs options with a group', { field: 'stream.group' })
  }
  checkKeys(options, OPTION_KEYS, 'stream')
  checkString(options.group, 'stream.group')
  if (options.name !== undefined) checkString(options.name, 'stream.name')
  for (const field of ['concurrency', 'prefetch', 'maxBatch', 'dedupMs'] as const) {
    const value = options[field]
    if (value !== undefined) checkNumber(value, `stream.${field}`, { min: 1, integer: true })
  }
  return new Stream<EventEnvelope<T>>({ bus, topic, options }, [])
}

/** A stream of values of type `V`, keyed (`keyBy`, default: the events' partition key). */
export class Stream<V> {
  /** @internal */
  constructor(
    private readonly origin: Origin,
    private readonly steps: readonly Step[],
  ) {}

  /** Keeps the values for which `fn` is true. */
  filter(fn: (value: V) => boolean): Stream<V> {
    return this.with({ kind: 'filter', fn: fn as (v: unknown) => boolean })
  }

  /** Turns each value into another. A throw dead-letters the event with the reason. */
  map<U>(fn: (value: V) => U): Stream<U> {
    return this.with({ kind: 'map', fn: fn as (v: unknown) => unknown }) as unknown as Stream<U>
  }

  /** Sets the key that state, windows, joins and patterns are kept by. */
  keyBy(fn: (value: V) => string): Stream<V> {
    return this.with({ kind: 'key', fn: fn as (v: unknown) => string })
  }

  /** Groups the values of each key into windows of event time; aggregate them next. */
  window(spec: WindowSpec, options: WindowOptions = {}): WindowedStream<V> {
    checkKeys(options, ['grace', 'emit'], 'window')
    const g = grace(options.grace, 'window.grace')
    if (options.emit !== undefined && options.emit !== 'final' && options.emit !== 'early') {
      throw new ConfigurationError("window.emit must be 'final' or 'early'", {
        field: 'window.emit',
      })
    }
    const early = options.emit === 'early'
    return new WindowedStream<V>(<A>(agg: Aggregation<V, A>) => {
      if (spec.kind === 'session' && agg.merge === undefined) {
        throw new ConfigurationError('aggregate() over session windows needs a merge function', {
          field: 'aggregate.merge',
        })
      }
      return this.results<A>((name) => windowOperator(name, spec, agg, { grace: g, early }))
    })
  }

  /**
   * Pairs this stream's values with `other`'s of the same key whose event times lie at most
   * `within` ms apart (an inner join; both topics are read by this stream's group).
   */
  join<W>(other: Stream<W>, options: JoinOptions<V, W>): Results<JoinResult<V, W>> {
    checkKeys(options, ['within', 'on', 'grace'], 'join')
    const within = checkNumber(options.within, 'join.within', { min: 1, integer: true })
    const g = grace(options.grace, 'join.grace')
    if (other.origin.bus !== this.origin.bus) {
      throw new ConfigurationError('join needs two streams of the same bus', { field: 'join' })
    }
    if (other.origin.topic === this.origin.topic) {
      throw new ConfigurationError('join needs two topics; for one topic, use a pattern', {
        field: 'join',
      })
    }
    const on = options.on as ((l: unknown, r: unknown) => boolean) | undefined
    return this.results(
      (name) => joinOperator(name, within, g, on),
      other.steps,
      other.origin.topic,
    )
  }

  /** Detects a pattern per key: `followedBy`, `notFollowedBy` or `atLeast`. */
  pattern<R>(pattern: Pattern<V, R>, options: { grace?: number } = {}): Results<R> {
    checkKeys(options, ['grace'], 'pattern')
    const g = grace(options.grace, 'pattern.grace')
    return this.results((name) => pattern.make(name, g))
  }

  /** Publishes each value as an event on `topic` (id derived from the input's). */
  to(topic: string, options: { type?: string } = {}): Promise<Processor> {
    return this.results<V>((name) => passThrough(name)).to(topic, options)
  }

  /** Calls `fn` for each value, at least once (dedup on `result.id`). */
  forEach(fn: (result: StreamResult<V>) => unknown): Promise<Processor> {
    return this.results<V>((name) => passThrough(name)).forEach(fn)
  }

  private with(step: Step): Stream<V> {
    return new Stream<V>(this.origin, [...this.steps, step])
  }

  private results<R>(
    make: (name: string) => Operator,
    otherSteps?: readonly Step[],
    otherTopic?: string,
  ): Results<R> {
    const { bus, topic, options } = this.origin
    const name = options.name ?? options.group
    const late = (t: string) => options.lateTopic ?? `${t}.late`
    const sources: Source[] = [{ topic, side: 0, steps: this.steps, lateTopic: late(topic) }]
    if (otherTopic !== undefined) {
      sources.push({
        topic: otherTopic,
        side: 1,
        steps: otherSteps ?? [],
        lateTopic: late(otherTopic),
      })
    }
    const operator = make(name)
    return new Results<R>((sink) => {
      const concurrency = options.concurrency ?? 64
      return new Processor({
        bus,
        name,
        group: options.group,
        store: options.store ?? memoryStore(),
        operator,
        sources,
        sink,
        subscribe: {
          concurrency,
          prefetch: options.prefetch ?? concurrency * 4,
          startAt: options.startAt ?? 'earliest',
        },
        maxBatch: options.maxBatch ?? 1_000,
        dedupMs: options.dedupMs ?? 600_000,
      })
    }, [])
  }
}

/** A stream grouped into windows: say how each window's values fold into one result. */
export class WindowedStream<V> {
  /** @internal */
  constructor(private readonly build: <A>(agg: Aggregation<V, A>) => Results<A>) {}

  /**
   * Folds each window's values with `add`, from `init()`. Session windows also need `merge`
   * (for two sessions an event bridges). Aggregates must be JSON values for durable stores.
   */
  aggregate<A>(init: () => A, add: (acc: A, value: V) => A, merge?: (a: A, b: A) => A): Results<A> {
    return this.build({ init, add, merge })
  }

  /** Counts each window's events. */
  count(): Results<number> {
    return this.build({ init: () => 0, add: (n: number) => n + 1, merge: (a, b) => a + b })
  }

  /** Combines each window's values pairwise with `fn`. */
  reduce(fn: (a: V, b: V) => V): Results<V> {
    const none = null as V
    return this.build({
      init: () => none,
      add: (acc: V, v: V) => (acc === none ? v : fn(acc, v)),
      merge: (a: V, b: V) => (a === none ? b : b === none ? a : fn(a, b)),
    })
  }
}

/** Results of a stateful step: shape them, then send them `to` a topic or to `forEach`. */
export class Results<R> {
  /** @internal */
  constructor(
    private readonly open: (sink: Sink) => Processor,
    private readonly steps: readonly Step[],
  ) {}

  /** Keeps the results whose value passes `fn`. */
  filter(fn: (value: R) => boolean): Results<R> {
    return new Results<R>(this.open, [
      ...this.steps,
      { kind: 'filter', fn: fn as (v: unknown) => boolean },
    ])
  }

  /** Turns each result's value into another. */
  map<U>(fn: (value: R) => U): Results<U> {
    return new Results<U>(this.open, [
      ...this.steps,
      { kind: 'map', fn: fn as (v: unknown) => unknown },
    ])
  }

  /**
   * Publishes each result as a CloudEvent on `topic` through the bus (id, key, window bounds in
   * extensions) and starts the processor.
   */
  async to(topic: string, options: { type?: string } = {}): Promise<Processor> {
    checkString(topic, 'to.topic')
    checkKeys(options, ['type'], 'to')
    if (options.type !== undefined) checkString(options.type, 'to.type')
    return this.start({ topic, type: options.type, steps: this.steps })
  }

  /** Calls `fn` for each result, at least once (dedup on `result.id`), and starts the processor. */
  async forEach(fn: (result: StreamResult<R>) => unknown): Promise<Processor> {
    if (typeof fn !== 'function') {
      throw new ConfigurationError('forEach needs a function', { field: 'forEach' })
    }
    return this.start({ each: fn as (r: StreamResult<unknown>) => unknown, steps: this.steps })
  }

  private async start(sink: Sink): Promise<Processor> {
    const processor = this.open(sink)
    try {
      await processor.start()
    } catch (error) {
      await processor.close()
      throw error
    }
    return processor
  }
}
