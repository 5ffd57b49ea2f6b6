import type { BatchHandler, BatchOptions } from './batch.js'
import {
  type BusHealth,
  type BusHooks,
  checkBusOptions,
  type EventBusOptions,
  INBOX_OPTIONS,
  probeHealth,
  reportTo,
} from './bus-options.js'
import { type Codec, resolveCodec } from './codec.js'
import { type DeadLetterApi, deadLetterApi } from './dead-letters.js'
import { createEvent, type EventEnvelope, type EventInput } from './envelope.js'
import { ClosedError, ConfigurationError, PublishError, SwitchyardError } from './errors.js'
import { type BusInspection, inspectBus } from './inspection.js'
import type { Logger } from './logger.js'
import {
  allIdle,
  composePublish,
  type HandleContext,
  type MiddlewareChains,
  type PublishContext,
  publishBatchThrough,
  splitMiddleware,
} from './middleware.js'
import { checkTopic, TOPIC, TOPIC_PATTERN } from './options.js'
import { outboundEncoder } from './outbound.js'
import { type PublishRetryPolicy, publishRetry } from './publish-retry.js'
import { type RequestOptions, RequestReply, replying } from './request-reply.js'
import {
  type EventRoutes,
  GroupFilters,
  openAll,
  type Subscriptions,
  toHandler,
} from './routing.js'
import { seekGroup } from './seek.js'
import { type StagePublish, stagingPublisher } from './staged-publish.js'
import type { StartAt } from './start-at.js'
import type { EventHandler, SubscribeOptions } from './subscribe-options.js'
import { Subscription } from './subscription.js'
import { InFlight, sleep, withTimeout } from './timing.js'
import type { TopicCreation, TopicSettings } from './topic-settings.js'
import { createTopicOn } from './topics.js'
import type { OutboundMessage, Transport } from './transport.js'

export type { BusHealth, EventBusOptions } from './bus-options.js'
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
  readonly deadLetters: DeadLetterApi
  /** Where the bus logs (the `logger` option, else the console at `warn`). */
  readonly logger: Logger

  private readonly codec: Codec
  /** Publish and handle middleware, each with its `enabled` gates. */
  private readonly chains: MiddlewareChains
  /** What a published event gets when its input leaves it out (the bus's `source`). */
  private readonly defaults: { source?: string }
  private readonly toMessage: (event: EventEnvelope) => OutboundMessage
  private readonly publishOne: (ctx: PublishContext) => Promise<void>
  private readonly staging: StagePublish
  private readonly subscriptions = new Set<Subscription>()
  private readonly deadLetterSuffix: string
  private readonly closeTimeoutMs: number
  private readonly hooks: BusHooks
  private readonly report: (error: unknown, where: string) => void
  private readonly retryPublish: PublishRetryPolicy
  private readonly requests: RequestReply
  private connecting: Promise<void> | undefined
  private closing: Promise<void> | undefined
  /** True once the transport connected: publishes then skip the wait on `connecting`. */
  private connected = false
  /** Publishes handed to the transport and not yet settled. */
  private readonly sending = new InFlight()
  /** The `types`/`tenant` filter of each group subscribed through this bus. */
  private readonly groupFilters = new GroupFilters()
  /** Subscriptions attaching at the transport. */
  private readonly opening = new InFlight()

  constructor(options: EventBusOptions) {
    const { transport, logger, hooks, source, closeTimeoutMs } = checkBusOptions(options)
    this.transport = transport
    this.logger = logger
    this.source = source
    this.defaults = this.source === undefined ? {} : { source: this.source }
    this.codec = resolveCodec(options.codec)
    this.toMessage = outboundEncoder(this.codec, transport.features)
    this.chains = splitMiddleware(options.middleware ?? [])
    this.deadLetterSuffix = options.deadLetterSuffix ?? '.dlq'
    this.closeTimeoutMs = closeTimeoutMs
    this.hooks = hooks
    this.report = reportTo(hooks)
    this.retryPublish = publishRetry(options.publishRetry)
    this.requests = new RequestReply({
      source: this.source,
      publish: (topic, input) => this.publish(topic, input),
      publishReply: (topic, input) =>
        this.publishThroughChain(this.draft(topic, input), topic, true),
      openInbox: (topic, handler) =>
        this.open(topic, handler as EventHandler, INBOX_OPTIONS(topic), true),
    })
    this.publishOne = composePublish(this.chains.publish, (ctx) =>
      this.send(ctx.topic, [this.toMessage(ctx.event)], undefined, ctx.temporary),
    )
    this.staging = stagingPublisher(this.chains.publish, this.toMessage, transport.name)
    this.deadLetters = deadLetterApi({
      transport,
      codec: this.codec,
      connect: () => this.connect(),
      subscribe: (topic, handler, opts) => this.subscribe(topic, handler, opts),
      send: (topic, messages) => this.send(topic, messages),
    })
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
      const event = this.draft(topic, input)
      if (this.chains.publish.length === 0 || allIdle(this.chains.publishGates))
        return this.send(topic, [this.toMessage(event)], event)
      return this.publishThroughChain(event, topic)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  private async publishThroughChain<T>(
    event: EventEnvelope<T>,
    topic: string,
    temporary = false,
  ): Promise<EventEnvelope<T>> {
    const transport = this.transport.name
    const ctx: PublishContext = temporary
      ? { topic, event, transport, temporary }
      : { topic, event, transport }
    await this.publishOne(ctx)
    return ctx.event as EventEnvelope<T>
  }

  /** Publishes events as one transport batch, in order; resolves with the complete envelopes.
   *  @throws {ConfigurationError} before anything is sent if any event is invalid. */
  async publishBatch<T>(
    topic: string,
    inputs: readonly EventInput<T>[],
  ): Promise<EventEnvelope<T>[]> {
    this.assertOpen()
    checkTopic(topic)
    if (!Array.isArray(inputs))
      throw new ConfigurationError('publishBatch needs an array of events', { field: 'events' })
    const events = inputs.map((input) => createEvent<T>(input, this.defaults))
    if (events.length === 0) return events
    if (this.chains.publish.length === 0 || allIdle(this.chains.publishGates)) {
      await this.send(topic, this.encodeAll(events))
      return events
    }
    const transport = this.transport.name
    const contexts = events.map((event): PublishContext => ({ topic, event, transport }))
    return (await publishBatchThrough(this.chains.publish, contexts, (batch) =>
      this.send(topic, this.encodeAll(batch)),
    )) as EventEnvelope<T>[]
  }

  private encodeAll(events: readonly EventEnvelope[]): OutboundMessage[] {
    return events.map((e) => this.toMessage(e))
  }

  /**
   * Subscribes a handler, or routes by event type (`{ 'user.created': h, 'user.*': h2, default:
   * h3 }`), to a topic (or several: one subscription each) for a consumer group. Resolves once
   * attached at the transport, so events published afterwards are seen.
   * @throws {ConfigurationError} for an unknown option, an out-of-range number, or a second
   * member of a group in this bus with another `types`/`tenant` filter (use routes instead).
   */
  subscribe<T = unknown>(
    topic: string,
    handler: BatchHandler<T>,
    options: SubscribeOptions & { batch: BatchOptions },
  ): Promise<Subscription>
  subscribe<T = unknown>(
    topic: string,
    handler: EventHandler<T> | EventRoutes,
    options?: SubscribeOptions,
  ): Promise<Subscription>
  subscribe<T = unknown>(
    topics: readonly string[],
    handler: EventHandler<T> | EventRoutes,
    options?: SubscribeOptions,
  ): Promise<Subscriptions>
  async subscribe(
    topic: string | readonly string[],
    given: EventHandler | EventRoutes | BatchHandler,
    subscribeOptions: SubscribeOptions = {},
  ): Promise<Subscription | Subscriptions> {
    const { handler, options } = toHandler(given as EventHandler, subscribeOptions)
    if (typeof topic === 'string') return this.open(topic, handler, options, false)
    return openAll(topic, (t) => this.open(t, handler, options, false))
  }

  private async open(
    topic: string,
    handler: EventHandler,
    options: SubscribeOptions,
    ephemeral: boolean,
  ): Promise<Subscription> {
    this.assertOpen()
    checkTopic(topic, this.transport.features.wildcards === true ? TOPIC_PATTERN : TOPIC)
    const defaults = this.transport.subscribeDefaults
    const subscription = new Subscription({
      topic,
      handler,
      options: defaults === undefined ? options : { ...defaults, ...options },
      ephemeral,
      transport: this.transport,
      codec: this.codec,
      middleware: this.chains.handle,
      gates: this.chains.handleGates,
      hooks: this.hooks,
      deadLetterSuffix: this.deadLetterSuffix,
      defaultCloseTimeoutMs: this.closeTimeoutMs,
      publishRaw: (t, messages) => this.send(t, messages),
      toMessage: (e) => this.toMessage(e),
      reply: (request, data, init) => this.requests.reply(request, data, init),
      publish: (t, input) => this.publish(t, input),
      stage: (t, input, outputs) => this.staging(t, this.draft(t, input), outputs),
      source: this.source ?? 'switchyard',
      onClosed: () => {
        this.subscriptions.delete(subscription)
        this.groupFilters.release(subscription)
      },
    })
    await this.connect()
    this.assertOpen()
    if (!ephemeral) this.groupFilters.hold(subscription, this.groupFilters.claim(topic, options))
    this.subscriptions.add(subscription)
    try {
      await this.opening.track(subscription.start())
    } catch (error) {
      this.subscriptions.delete(subscription)
      this.groupFilters.release(subscription)
      throw this.closing === undefined ? error : new ClosedError()
    }
    if (this.closing !== undefined) {
      // close() began while the transport attached: it must win, and leave nothing running.
      await subscription.close()
      throw new ClosedError()
    }
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
    return this.open(topic, replying(responder), { group: 'responders', ...options }, false)
  }

  /** Publishes a request and resolves with the first reply. @throws {TimeoutError} after `timeoutMs`. */
  request<T = unknown, R = unknown>(
    topic: string,
    input: EventInput<T> | T,
    options: RequestOptions = {},
  ): Promise<EventEnvelope<R>> {
    return this.requests.request<T, R>(topic, input, options)
  }

  /** Operator figures per topic and group, read without joining a group (see `BusInspection`). */
  async inspect(topic?: string): Promise<BusInspection> {
    await this.connect()
    return inspectBus(this.transport, this.codec, this.deadLetterSuffix, topic)
  }

  /** Moves an existing group of `topic` to `position`; its members in this process must be closed. */
  async seek(topic: string, group: string, position: StartAt): Promise<void> {
    await this.connect()
    return seekGroup(this.transport, this.subscriptions, topic, group, position)
  }

  /** Creates `topic` on the broker with `settings` (an existing one keeps its own); says which
   *  settings the broker took. @throws {ConfigurationError} for an invalid topic or setting. */
  async createTopic(topic: string, settings: TopicSettings = {}): Promise<TopicCreation> {
    await this.connect()
    return createTopicOn(this.transport, topic, settings)
  }

  /** Probes the transport. Never throws. */
  health(): Promise<BusHealth> {
    return probeHealth(this.transport, this.closing === undefined, this.subscriptions.size)
  }

  /** Stops publishes, drains every subscription (running handlers finish and are acked, nothing
   *  new starts), then closes the transport. Safe to call twice. */
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
    // A subscribe under way finishes first (closing what it attached), bounded like the drain.
    await withTimeout(this.opening.idle(), timeoutMs).catch(() => undefined)
    // Publishes accepted before close() still reach the broker before the transport goes.
    await this.sending.idle()
    if (this.connecting !== undefined) {
      await this.connecting.catch(() => undefined)
      await this.transport.close()
    }
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new ClosedError()
  }

  /** The complete envelope of a publish to `topic`; throws as `publish` documents. */
  private draft<T>(topic: string, input: EventInput<T>): EventEnvelope<T> {
    this.assertOpen()
    checkTopic(topic)
    return createEvent(input, this.defaults)
  }

  /** Hands messages to the transport, connecting first if needed; resolves with `result`. The one
   *  async frame of a publish: each extra promise or frame here was measurable garbage. */
  private async send<R = void>(
    topic: string,
    messages: OutboundMessage[],
    result?: R,
    temporary?: boolean,
  ): Promise<R> {
    this.sending.enter()
    try {
      if (!this.connected) await this.connect()
      for (let attempt = 1; ; attempt++) {
        try {
          await this.transport.publish(topic, messages, temporary ? { temporary } : undefined)
          return result as R
        } catch (error) {
          const delayMs = this.retryPublish(error, attempt)
          if (delayMs === undefined) throw error
          this.report(
            error,
            `publish to "${topic}" (attempt ${attempt}, retrying in ${delayMs} ms)`,
          )
          await sleep(delayMs)
        }
      }
    } catch (error) {
      if (error instanceof SwitchyardError) throw error
      throw new PublishError(
        `Publishing ${messages.length} event(s) to "${topic}" failed: ${(error as Error).message}`,
        { topic, cause: error },
      )
    } finally {
      this.sending.leave()
    }
  }
}
