import { randomUUID } from 'node:crypto'
import { type Codec, type EncodedParts, partsEncoder, resolveCodec } from './codec.js'
import {
  DEAD_LETTER_TYPE,
  type DeadLetterRecord,
  originalMessage,
  readDeadLetter,
} from './dead-letter.js'
import { createEvent, type EventEnvelope, type EventInput } from './envelope.js'
import {
  ClosedError,
  ConfigurationError,
  PublishError,
  SwitchyardError,
  TimeoutError,
} from './errors.js'
import {
  allIdle,
  composePublish,
  type HandleContext,
  type HandleMiddleware,
  type Middleware,
  type PublishContext,
  type PublishMiddleware,
} from './middleware.js'
import { checkKeys, checkNumber, checkString } from './options.js'
import {
  type BusHooks,
  type EventHandler,
  type SubscribeOptions,
  Subscription,
} from './subscription.js'
import type { OutboundMessage, Transport, TransportHealth } from './transport.js'

/** Options of `createEventBus`. */
export interface EventBusOptions {
  /** The transport adapter (`memoryTransport()`, `redisTransport()`, ...). */
  transport: Transport
  /** Default `source` of published events, usually the service name. */
  source?: string
  /** Wire format. @default 'binary' (CloudEvents binary content mode) */
  codec?: 'binary' | 'structured' | Codec
  /** Middleware around publish and handle, outermost first. */
  middleware?: readonly Middleware[]
  /** Suffix of default dead-letter topics. @default '.dlq' */
  deadLetterSuffix?: string
  /** Upper bound for `close()` to drain handlers. @default 10_000 */
  closeTimeoutMs?: number
  /** Observation hooks; errors they throw are ignored. */
  hooks?: BusHooks
}

/** Health of the bus and its transport. */
export interface BusHealth {
  /** `up` when open and the transport answers. */
  status: 'up' | 'down'
  /** The transport's own report. */
  transport: TransportHealth & { name: string }
  /** Open subscriptions. */
  subscriptions: number
}

/** Options of `bus.request`. */
export interface RequestOptions {
  /** Give up after this long. @default 5_000 */
  timeoutMs?: number
}

/** Options of `deadLetters.replay`. */
export interface ReplayOptions {
  /** Replay only entries this returns true for; the others stay and are offered to a later replay after a minute. */
  filter?: (entry: DeadLetterRecord) => boolean
  /** Stop after this many replayed entries. */
  limit?: number
  /** Stop when nothing arrived for this long after the last entry. @default 500 */
  idleMs?: number
  /** Stop when no entry arrived at all within this long. @default 5_000 */
  waitMs?: number
}

const EMPTY = new Uint8Array(0)

/**
 * A message for a transport with `textBodies`: it sends `text`, so `body` is encoded only if
 * read. A class with a prototype getter: an object literal with a getter costs a closure and
 * an accessor pair per message, and that garbage was promoted and set off major collections.
 */
class TextOutbound implements OutboundMessage {
  private bytes: Uint8Array | undefined
  constructor(
    readonly id: string,
    readonly key: string | undefined,
    readonly headers: Record<string, string>,
    readonly text: string,
  ) {}
  get body(): Uint8Array {
    this.bytes ??= Buffer.from(this.text, 'utf8')
    return this.bytes
  }
}
const TOPIC = /^[A-Za-z0-9._\-~:/@]{1,249}$/u
/** Subscriptions may also use `*` and `>` wildcards; transports without them reject these. */
const TOPIC_PATTERN = /^[A-Za-z0-9._\-~:/@*>]{1,249}$/u

/**
 * One API for publishing and consuming typed events over any transport.
 * @example
 * const bus = createEventBus({ transport: memoryTransport(), source: 'hr-service' })
 * await bus.subscribe('employees', async (event) => console.log(event.data), { group: 'audit' })
 * await bus.publish('employees', { type: 'employee.created', data: { id: 'e1' } })
 * await bus.close()
 */
export class EventBus implements AsyncDisposable {
  /** Default source of published events. */
  readonly source: string | undefined
  /** The transport in use. */
  readonly transport: Transport
  /** Dead-letter listing and replay. */
  readonly deadLetters: {
    /** Reads up to `limit` entries of a dead-letter topic without consuming them. */
    list(topic: string, options?: { limit?: number }): Promise<DeadLetterRecord[]>
    /** Sends entries of a dead-letter topic back to their original topics; resolves with the count. */
    replay(topic: string, options?: ReplayOptions): Promise<number>
  }

  private readonly codec: Codec
  private readonly encode: (event: EventEnvelope) => EncodedParts
  private readonly publishMiddleware: PublishMiddleware[]
  private readonly handleMiddleware: HandleMiddleware[]
  private readonly publishGates: Array<(() => boolean) | undefined>
  private readonly handleGates: Array<(() => boolean) | undefined>
  private readonly publishOne: (ctx: PublishContext) => Promise<void>
  private readonly subscriptions = new Set<Subscription>()
  private readonly deadLetterSuffix: string
  private readonly closeTimeoutMs: number
  private readonly hooks: BusHooks
  private readonly byReference: boolean
  private connecting: Promise<void> | undefined
  private closing: Promise<void> | undefined
  private inbox: { topic: string; ready: Promise<Subscription> } | undefined
  private readonly pending = new Map<string, (event: EventEnvelope) => void>()
  /** True once the transport connected: publishes then skip the wait on `connecting`. */
  private connected = false
  /** Publishes handed to the transport and not yet settled, and who waits for none. */
  private sendCount = 0
  private sendIdle: Array<() => void> = []

  constructor(options: EventBusOptions) {
    checkKeys(
      options,
      ['transport', 'source', 'codec', 'middleware', 'deadLetterSuffix', 'closeTimeoutMs', 'hooks'],
      'createEventBus',
    )
    const transport = options?.transport
    if (transport === undefined || typeof transport.publish !== 'function') {
      throw new ConfigurationError('createEventBus needs a transport, e.g. memoryTransport()', {
        field: 'transport',
      })
    }
    this.transport = transport
    this.source = options.source === undefined ? undefined : checkString(options.source, 'source')
    this.codec = resolveCodec(options.codec)
    // A transport that sends text gets a body made from text as text alone (see TextOutbound).
    this.encode =
      this.transport.features.textBodies === true
        ? partsEncoder(this.codec)
        : (event) => this.codec.encode(event)
    const middleware = options.middleware ?? []
    if (!Array.isArray(middleware)) {
      throw new ConfigurationError('middleware must be an array', { field: 'middleware' })
    }
    this.publishMiddleware = middleware.flatMap((m) => (m.publish ? [m.publish.bind(m)] : []))
    this.handleMiddleware = middleware.flatMap((m) => (m.handle ? [m.handle.bind(m)] : []))
    this.publishGates = middleware.flatMap((m) => (m.publish ? [m.enabled?.bind(m)] : []))
    this.handleGates = middleware.flatMap((m) => (m.handle ? [m.enabled?.bind(m)] : []))
    this.deadLetterSuffix = options.deadLetterSuffix ?? '.dlq'
    this.closeTimeoutMs = checkNumber(options.closeTimeoutMs ?? 10_000, 'closeTimeoutMs', {
      min: 0,
    })
    this.hooks = options.hooks ?? {}
    this.byReference = (transport as { passByReference?: boolean }).passByReference === true
    this.publishOne = composePublish(this.publishMiddleware, (ctx) =>
      this.send(ctx.topic, [this.toMessage(ctx.event)]),
    )
    this.deadLetters = {
      list: (topic, opts) => this.listDeadLetters(topic, opts?.limit ?? 100),
      replay: (topic, opts) => this.replayDeadLetters(topic, opts ?? {}),
    }
  }

  /** Connects the transport. Optional: publish and subscribe connect on first use. */
  connect(): Promise<void> {
    this.assertOpen()
    this.connecting ??= this.transport.connect().then(
      () => {
        this.connected = true
      },
      (error: unknown) => {
        this.connecting = undefined
        throw error
      },
    )
    return this.connecting
  }

  /**
   * Publishes one event. Fills `id`, `time`, `source` and `specversion` when missing and resolves
   * with the complete envelope once the transport confirmed it.
   * @throws {ConfigurationError} for a missing `type`/`source` or data that cannot be serialised.
   * @throws {PublishError} when the transport did not confirm the event.
   */
  publish<T>(topic: string, input: EventInput<T>): Promise<EventEnvelope<T>> {
    // Not async itself: without middleware the only async step is `send`, one frame per event.
    try {
      this.assertOpen()
      checkTopic(topic)
      const event = createEvent(input, this.source === undefined ? {} : { source: this.source })
      if (this.publishMiddleware.length === 0 || allIdle(this.publishGates))
        return this.send(topic, [this.toMessage(event)], event)
      return this.publishThroughChain(event, topic)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  private async publishThroughChain<T>(
    event: EventEnvelope<T>,
    topic: string,
  ): Promise<EventEnvelope<T>> {
    const ctx: PublishContext = { topic, event, transport: this.transport.name }
    await this.publishOne(ctx)
    return ctx.event as EventEnvelope<T>
  }

  /**
   * Publishes events as one transport batch, in order. Resolves with the complete envelopes.
   * @throws {ConfigurationError} before anything is sent if any event is invalid.
   */
  async publishBatch<T>(
    topic: string,
    inputs: readonly EventInput<T>[],
  ): Promise<EventEnvelope<T>[]> {
    this.assertOpen()
    checkTopic(topic)
    if (!Array.isArray(inputs))
      throw new ConfigurationError('publishBatch needs an array of events', { field: 'events' })
    const defaults = this.source === undefined ? {} : { source: this.source }
    const events = inputs.map((input) => createEvent<T>(input, defaults))
    if (events.length === 0) return events
    if (this.publishMiddleware.length === 0) {
      await this.send(
        topic,
        events.map((e) => this.toMessage(e)),
      )
      return events
    }
    return (await this.publishThroughMiddleware(topic, events)) as EventEnvelope<T>[]
  }

  /**
   * Subscribes a handler to a topic for a consumer group. Resolves once the subscription is
   * attached at the transport, so events published afterwards are seen.
   * @throws {ConfigurationError} for an unknown option or an out-of-range number.
   */
  async subscribe<T = unknown>(
    topic: string,
    handler: EventHandler<T>,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    this.assertOpen()
    checkTopic(topic, this.transport.features.wildcards === true ? TOPIC_PATTERN : TOPIC)
    if (typeof handler !== 'function') {
      throw new ConfigurationError('subscribe needs a handler function', { field: 'handler' })
    }
    const defaults = this.transport.subscribeDefaults
    const subscription = new Subscription({
      topic,
      handler: handler as EventHandler,
      options: defaults === undefined ? options : { ...defaults, ...options },
      transport: this.transport,
      codec: this.codec,
      middleware: this.handleMiddleware,
      gates: this.handleGates,
      hooks: this.hooks,
      deadLetterSuffix: this.deadLetterSuffix,
      defaultCloseTimeoutMs: this.closeTimeoutMs,
      publishRaw: (t, messages) => this.send(t, messages),
      toMessage: (e) => this.toMessage(e),
      reply: (request, data, init) => this.reply(request, data, init),
      source: this.source ?? 'switchyard',
      onClosed: (s) => this.subscriptions.delete(s),
    })
    await this.connect()
    await subscription.start()
    this.subscriptions.add(subscription)
    return subscription
  }

  /**
   * Answers requests on a topic: the function's result is sent back as the reply's data.
   * @example await bus.respond('calc.sum', (event) => event.data.numbers.reduce((a, b) => a + b))
   */
  respond<T = unknown>(
    topic: string,
    responder: (event: EventEnvelope<T>, ctx: HandleContext<T>) => unknown,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    return this.subscribe<T>(
      topic,
      async (event, ctx) => {
        const result = await responder(event, ctx)
        await ctx.reply(result)
      },
      { group: 'responders', ...options },
    )
  }

  /**
   * Publishes a request and resolves with the first reply.
   * @throws {TimeoutError} when no reply arrives within `timeoutMs`.
   */
  async request<T = unknown, R = unknown>(
    topic: string,
    input: EventInput<T> | T,
    options: RequestOptions = {},
  ): Promise<EventEnvelope<R>> {
    checkKeys(options, ['timeoutMs'], 'request')
    const timeoutMs = checkNumber(options.timeoutMs ?? 5_000, 'request.timeoutMs', { min: 1 })
    const inbox = await this.ensureInbox()
    const base = isEventInput(input) ? input : { type: `${topic}.request`, data: input }
    const id = randomUUID()
    const event: EventInput<T> = {
      ...(base as EventInput<T>),
      id,
      correlationid: (base as EventInput<T>).correlationid ?? id,
      extensions: { ...(base as EventInput<T>).extensions, replyto: inbox },
    }
    let timer: NodeJS.Timeout | undefined
    const reply = new Promise<EventEnvelope>((resolve, reject) => {
      this.pending.set(id, resolve)
      timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new TimeoutError(`No reply on "${topic}" within ${timeoutMs} ms`, { timeoutMs }))
      }, timeoutMs)
    })
    try {
      await this.publish(topic, event)
      return (await reply) as EventEnvelope<R>
    } finally {
      clearTimeout(timer)
      this.pending.delete(id)
    }
  }

  /** Probes the transport. Never throws. */
  async health(): Promise<BusHealth> {
    let transport: TransportHealth
    try {
      transport = await this.transport.health()
    } catch (error) {
      transport = { status: 'down', detail: (error as Error).message }
    }
    const status = this.closing === undefined && transport.status === 'up' ? 'up' : 'down'
    return {
      status,
      transport: { ...transport, name: this.transport.name },
      subscriptions: this.subscriptions.size,
    }
  }

  /**
   * Stops accepting publishes, drains every subscription (running handlers finish and are
   * acknowledged, nothing new starts), then closes the transport. Safe to call twice.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= this.doClose(options.timeoutMs ?? this.closeTimeoutMs)
    return this.closing
  }

  /** `await using bus = createEventBus(...)` closes the bus at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  private async doClose(timeoutMs: number): Promise<void> {
    await Promise.allSettled([...this.subscriptions].map((s) => s.close({ timeoutMs })))
    this.subscriptions.clear()
    // Publishes accepted before close() still reach the broker before the transport goes.
    while (this.sendCount > 0) await new Promise<void>((resolve) => this.sendIdle.push(resolve))
    if (this.connecting !== undefined) {
      await this.connecting.catch(() => undefined)
      await this.transport.close()
    }
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new ClosedError()
  }

  private toMessage(event: EventEnvelope): OutboundMessage {
    if (this.byReference)
      return { id: event.id, key: event.partitionkey, headers: {}, body: EMPTY, event }
    const { id, partitionkey: key } = event
    const { headers, body, text } = this.encode(event)
    if (body === undefined) return new TextOutbound(id, key, headers, text)
    return text === undefined ? { id, key, headers, body } : { id, key, headers, body, text }
  }

  /**
   * Hands messages to the transport, connecting first if needed; resolves with `result`. The one
   * async frame of a publish: this runs for every event, and each extra promise or frame here
   * was measurable garbage.
   */
  private async send<R = void>(topic: string, messages: OutboundMessage[], result?: R): Promise<R> {
    this.sendCount++
    try {
      if (!this.connected) await this.connect()
      await this.transport.publish(topic, messages)
      return result as R
    } catch (error) {
      if (error instanceof SwitchyardError) throw error
      throw new PublishError(
        `Publishing ${messages.length} event(s) to "${topic}" failed: ${(error as Error).message}`,
        {
          topic,
          cause: error,
        },
      )
    } finally {
      if (--this.sendCount === 0) for (const wake of this.sendIdle.splice(0)) wake()
    }
  }

  private async publishThroughMiddleware(
    topic: string,
    events: EventEnvelope[],
  ): Promise<EventEnvelope[]> {
    // Each event runs its own chain; the chains meet at one transport batch, sent once every
    // chain has either reached the transport or stopped early (a middleware that drops).
    const contexts: PublishContext[] = events.map((event) => ({
      topic,
      event,
      transport: this.transport.name,
    }))
    const reached = new Set<PublishContext>()
    let refused: { error: unknown } | undefined
    let settled = 0
    let allSettled!: () => void
    const gate = new Promise<void>((resolve) => {
      allSettled = resolve
    })
    const settle = () => {
      if (++settled === contexts.length) allSettled()
    }
    const sent = gate.then(() => {
      // One refused event (e.g. failed validation) keeps the whole batch back.
      if (refused !== undefined) throw refused.error
      const batch = contexts.filter((c) => reached.has(c)).map((c) => this.toMessage(c.event))
      return batch.length === 0 ? undefined : this.send(topic, batch)
    })
    sent.catch(() => undefined) // observed by the chains that reached it; never unhandled
    const chain = composePublish(this.publishMiddleware, (ctx) => {
      reached.add(ctx)
      settle()
      return sent
    })
    const results = await Promise.allSettled(
      contexts.map((ctx) =>
        chain(ctx).then(
          () => {
            if (!reached.has(ctx)) settle()
          },
          (error: unknown) => {
            if (!reached.has(ctx)) {
              refused ??= { error }
              settle()
            }
            throw error
          },
        ),
      ),
    )
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed !== undefined) throw failed.reason
    return contexts.map((c) => c.event)
  }

  private async ensureInbox(): Promise<string> {
    if (this.inbox === undefined) {
      const topic = `_switchyard.inbox.${randomUUID()}`
      const ready = this.subscribe(
        topic,
        (event) => {
          const waiting =
            event.causationid === undefined ? undefined : this.pending.get(event.causationid)
          waiting?.(event)
        },
        { group: topic, startAt: 'latest', concurrency: 16, retry: { maxAttempts: 1 } },
      )
      this.inbox = { topic, ready }
      ready.catch(() => {
        this.inbox = undefined
      })
    }
    await this.inbox.ready
    return this.inbox.topic
  }

  private async reply(
    request: EventEnvelope,
    data: unknown,
    init: { type?: string } = {},
  ): Promise<void> {
    const replyTo = request.extensions?.replyto
    if (replyTo === undefined) {
      throw new ConfigurationError(
        `Event ${request.id} carries no reply address; was it sent with bus.request()?`,
        {
          field: 'extensions.replyto',
        },
      )
    }
    const reply: EventInput = {
      type: init.type ?? `${request.type}.reply`,
      source: this.source ?? request.source,
      causationid: request.id,
    }
    if (data !== undefined) reply.data = data
    const correlation = request.correlationid ?? request.id
    reply.correlationid = correlation
    if (request.tenantid !== undefined) reply.tenantid = request.tenantid
    await this.publish(replyTo, reply)
  }

  private async listDeadLetters(topic: string, limit: number): Promise<DeadLetterRecord[]> {
    checkTopic(topic)
    if (this.transport.browse === undefined) {
      throw new ConfigurationError(`The ${this.transport.name} transport cannot list messages`, {
        field: 'transport',
      })
    }
    await this.connect()
    const messages = await this.transport.browse(topic, { limit })
    return messages.map((m) => readDeadLetter(m.event ?? this.codec.decode(m)))
  }

  private async replayDeadLetters(topic: string, options: ReplayOptions): Promise<number> {
    checkKeys(options, ['filter', 'limit', 'idleMs', 'waitMs'], 'replay')
    const limit = options.limit ?? Number.POSITIVE_INFINITY
    const idleMs = options.idleMs ?? 500
    const waitMs = options.waitMs ?? 5_000
    let replayed = 0
    let idleTimer: NodeJS.Timeout | undefined
    let finish!: () => void
    const done = new Promise<void>((resolve) => {
      finish = resolve
    })
    const armIdle = (ms = idleMs) => {
      clearTimeout(idleTimer)
      idleTimer = setTimeout(finish, ms)
    }
    const subscription = await this.subscribe(
      topic,
      async (event) => {
        if (replayed >= limit) return { kind: 'retry', delayMs: 60_000, error: undefined } as const
        armIdle()
        if (event.type !== DEAD_LETTER_TYPE) return
        const entry = readDeadLetter(event)
        if (options.filter !== undefined && !options.filter(entry)) {
          return { kind: 'retry', delayMs: 60_000, error: undefined } as const
        }
        await this.send(entry.topic, [originalMessage(entry)])
        if (++replayed >= limit) finish()
      },
      {
        group: `${topic}.replay`,
        startAt: 'earliest',
        retry: { maxAttempts: 1_000, inProcessMaxDelayMs: 0 },
      },
    )
    // Brokers may take a while to assign a new group (Kafka rebalances): wait longer for the first.
    armIdle(waitMs)
    await done
    clearTimeout(idleTimer)
    await subscription.close()
    return replayed
  }
}

function checkTopic(topic: unknown, pattern = TOPIC): asserts topic is string {
  if (typeof topic !== 'string' || !pattern.test(topic)) {
    throw new ConfigurationError(
      `Invalid topic ${JSON.stringify(topic)}: use 1-249 characters from A-Z a-z 0-9 . _ - ~ : / @`,
      { field: 'topic' },
    )
  }
}

function isEventInput(value: unknown): value is EventInput {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { type?: unknown }).type === 'string'
  )
}

/**
 * Creates an event bus over a transport.
 * @throws {ConfigurationError} for unknown options or a missing transport.
 * @example
 * const bus = createEventBus({ transport: memoryTransport(), source: 'hr-service' })
 */
export function createEventBus(options: EventBusOptions): EventBus {
  return new EventBus(options)
}
