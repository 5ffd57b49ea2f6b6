import {
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  type MsgRequest,
} from '@nats-io/jetstream'
import { connect, type NatsConnection, type Status } from '@nats-io/transport-node'
import {
  consoleLogger,
  errorFields,
  type InboundMessage,
  InFlight,
  type Logger,
  type OutboundMessage,
  type StartAt,
  type TopicSettings,
  type Transport,
  type TransportContext,
  type TransportFeatures,
  type TransportHealth,
  type TransportPublishOptions,
  type TransportSubscribeOptions,
  type TransportSubscription,
  type TransportTopicInspection,
  withTimeout,
} from '@switchyard/core/transport'
import { AttemptMemory } from './attempt-memory.js'
import { CoreSubscription } from './core-subscription.js'
import {
  closedError,
  connectError,
  jetStreamMissing,
  noResponders,
  publishError,
} from './errors.js'
import { InboxRouter } from './inbox-router.js'
import { inspectTopics } from './inspect.js'
import { fromNatsHeaders, publishSubject, subjectsFor } from './mapping.js'
import { type NatsTransportOptions, type ResolvedNatsOptions, resolveOptions } from './options.js'
import { Publisher } from './publisher.js'
import { RetentionWatch } from './retention-watch.js'
import { seekConsumer } from './seek.js'
import { type NatsServerFeatures, StreamRegistry, serverFeatures } from './stream-registry.js'
import { PullSubscription } from './subscription.js'

const FEATURES: TransportFeatures = {
  consumerGroups: true,
  orderedPerKey: true,
  persistent: true,
  replayFromStart: true,
  nativeDelay: true,
  wildcards: true,
}

interface Connected {
  nc: NatsConnection
  jsm: JetStreamManager
  registry: StreamRegistry
  publisher: Publisher
  router: InboxRouter
  server: NatsServerFeatures
}

/**
 * The NATS JetStream transport: topics are subjects stored in streams, groups are durable pull
 * consumers, publishes wait for the JetStream ack and carry the event id as `Nats-Msg-Id`.
 */
export class NatsTransport implements Transport {
  /** Always `nats`. */
  readonly name = 'nats'
  /** Capability flags. */
  readonly features = FEATURES
  private readonly options: ResolvedNatsOptions
  private readonly attempts = new AttemptMemory()
  private readonly subscriptions = new Set<PullSubscription | CoreSubscription>()
  /**
   * The subject of each topic published to before, its stream known to exist: the hot path
   * skips validation and lookups.
   */
  private readonly routes = new Map<string, string>()
  private readonly publishing = new InFlight()
  private connected: Connected | undefined
  private connecting: Promise<Connected> | undefined
  private closed = false
  private logger: Logger

  /** Subscription settings from the configuration (`MAX_DELIVER_ATTEMPTS`), applied by the bus. */
  readonly subscribeDefaults: Transport['subscribeDefaults']

  constructor(private readonly given: NatsTransportOptions = {}) {
    this.options = resolveOptions(given)
    this.logger = this.options.logger ?? consoleLogger('warn')
    this.subscribeDefaults = given.subscribeDefaults
  }

  /** The NATS connection, once connected (the one passed as `client`, or the transport's own). */
  get client(): NatsConnection | undefined {
    return this.connected?.nc
  }

  /** Version and detected features of the server, once connected. */
  get server(): NatsServerFeatures | undefined {
    return this.connected?.server
  }

  /**
   * Connects (unless given a client), checks JetStream, creates or updates the declared streams.
   * @throws {ConnectionError} when no server answers or JetStream is off.
   */
  async connect(): Promise<void> {
    await this.ready()
  }

  /**
   * Publishes the messages to the topic's subject; resolves once JetStream acknowledged all. A
   * `temporary` publish (a reply to a request inbox, read by a core subscription) is a plain
   * NATS publish, confirmed by a flush: nothing stores it.
   * @throws {SwitchyardError} classified retryable or not (see `errors.ts`); `ClosedError` after close.
   */
  async publish(
    topic: string,
    messages: readonly OutboundMessage[],
    options?: TransportPublishOptions,
  ): Promise<void> {
    if (this.closed) throw closedError()
    if (messages.length === 0) return
    this.publishing.enter()
    try {
      const c = this.connected ?? (await this.ready())
      if (options?.temporary === true) {
        await c.publisher.direct(publishSubject(topic, this.options.subjects), messages)
      } else {
        await this.send(c, topic, messages)
      }
    } catch (error) {
      throw publishError(topic, error, this.options.ackTimeoutMs)
    } finally {
      this.publishing.leave()
    }
  }

  private async send(c: Connected, topic: string, messages: readonly OutboundMessage[]) {
    let subject = this.routes.get(topic)
    if (subject === undefined) {
      subject = publishSubject(topic, this.options.subjects)
      await c.registry.resolve(subject)
      if (this.routes.size < 10_000) this.routes.set(topic, subject)
    }
    try {
      await c.publisher.publish(subject, messages)
    } catch (error) {
      // The stream is gone or JetStream is restarting: look it up again on the bus's retry.
      if (noResponders(error)) {
        this.routes.delete(topic)
        c.registry.forget(subject)
      }
      throw error
    }
  }

  /**
   * Joins the group's durable consumer (created per `startAt` when new); an ephemeral
   * subscription is a plain NATS subscription instead.
   */
  async subscribe(
    topic: string,
    options: TransportSubscribeOptions,
  ): Promise<TransportSubscription> {
    if (this.closed) throw closedError()
    const { nc, jsm, registry, router } = await this.ready()
    const onClosed = (s: PullSubscription | CoreSubscription) => this.subscriptions.delete(s)
    if (options.ephemeral === true) {
      const inbox = new CoreSubscription(nc, topic, onClosed)
      this.subscriptions.add(inbox)
      await nc.flush()
      return inbox
    }
    const { stream, consumer, ensure } = await registry.consumer(
      topic,
      options.group,
      options.startAt,
    )
    const subjects = subjectsFor(topic, this.options.subjects)
    const at = { stream, consumer, topic, subjects }
    const retention = await RetentionWatch.create(jsm, at, this.options.pullExpiresMs)
    const subscription = new PullSubscription({
      nc,
      options: this.options,
      stream,
      consumer,
      topic,
      attempts: this.attempts,
      router,
      retention,
      ensureConsumer: ensure,
      onClosed,
    })
    this.subscriptions.add(subscription)
    return subscription
  }

  /** Re-creates an existing group's consumer at `position`; refused while members pull. */
  async seek(topic: string, group: string, position: StartAt): Promise<void> {
    const { jsm, registry } = await this.ready()
    await seekConsumer(jsm, registry, this.options.subjects, topic, group, position)
  }

  /** Messages per topic; lag (`num_pending`), pending (`num_ack_pending`) and oldest pending age per group. */
  async inspect(topics?: readonly string[]): Promise<TransportTopicInspection[]> {
    const { jsm, registry } = await this.ready()
    return inspectTopics(jsm, registry, this.options.subjects, topics)
  }

  /** Creates the topic's stream with `max_age`, replicas and compression unless one stores it. */
  async createTopic(topic: string, settings: TopicSettings) {
    const { registry } = await this.ready()
    return registry.createTopic(topic, settings)
  }

  /** Reads up to `limit` stored messages of the topic from the start, without consuming them. */
  async browse(topic: string, options: { limit: number }): Promise<InboundMessage[]> {
    const { jsm, registry } = await this.ready()
    const subject = publishSubject(topic, this.options.subjects)
    const stream = await registry.resolve(subject, false)
    const out: InboundMessage[] = []
    let seq = 1
    while (stream !== undefined && out.length < options.limit) {
      // `next_by_subj` (nats-server 2.9+) is missing from nats.js's request type.
      const query = { next_by_subj: subject, seq } as unknown as MsgRequest
      const stored = await jsm.streams.getMessage(stream, query)
      if (stored === null) break
      const { headers, key } = fromNatsHeaders(stored.header)
      out.push({
        topic,
        headers,
        body: stored.data,
        key,
        attempt: 1,
        position: `${stream}:${stored.seq}`,
        timestamp: stored.time.getTime(),
        ack: () => undefined,
        nack: () => undefined,
      })
      seq = stored.seq + 1
    }
    return out
  }

  /** `up` with the server version and round trip time, or `down` with the reason. */
  async health(): Promise<TransportHealth> {
    if (this.closed) return { status: 'down', detail: 'transport closed' }
    const connected = this.connected
    if (connected === undefined) return { status: 'down', detail: 'not connected' }
    const { nc, server } = connected
    if (nc.isClosed()) return { status: 'down', detail: 'connection closed' }
    try {
      const rtt = await withTimeout(nc.rtt(), 2_000, 'nats-server')
      return {
        status: 'up',
        detail: `nats-server ${server.version} at ${nc.getServer()}, rtt ${rtt.toFixed(2)} ms`,
      }
    } catch (error) {
      return { status: 'down', detail: (error as Error).message }
    }
  }

  /**
   * Closes open subscriptions, lets publishes in flight get their acks, then drains the
   * connection (unless it was passed in as `client`, which stays open).
   */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const connected = await this.connecting?.catch(() => undefined)
    if (connected === undefined) return
    await Promise.allSettled([...this.subscriptions].map((s) => s.close()))
    // Publishes that got past the bus before it closed are still owed their acks.
    await this.publishing.idle()
    await connected.router.close()
    if (this.given.client === undefined) await connected.nc.drain().catch(() => undefined)
    else await connected.nc.flush().catch(() => undefined)
  }

  private ready(): Promise<Connected> {
    if (this.closed && this.connected === undefined) return Promise.reject(closedError())
    this.connecting ??= this.open().catch((error: unknown) => {
      this.connecting = undefined
      throw error
    })
    return this.connecting
  }

  private async open(): Promise<Connected> {
    const nc = this.given.client ?? (await this.dial())
    const domain = this.options.domain
    let jsm: JetStreamManager
    try {
      jsm = await jetstreamManager(nc, domain === undefined ? {} : { domain })
    } catch (error) {
      if (this.given.client === undefined) await nc.close().catch(() => undefined)
      throw jetStreamMissing(nc.getServer(), error)
    }
    const js = jetstream(nc, domain === undefined ? {} : { domain })
    const server = serverFeatures(nc.info?.version ?? '0.0.0')
    const registry = new StreamRegistry(jsm, this.options, server)
    await registry.declare()
    const { publishWindow, ackTimeoutMs } = this.options
    const publisher = new Publisher(nc, js, publishWindow, ackTimeoutMs)
    const router = new InboxRouter(nc, this.attempts)
    this.connected = { nc, jsm, registry, publisher, router, server }
    void this.watch(nc)
    return this.connected
  }

  private async dial(): Promise<NatsConnection> {
    try {
      return await connect(this.options.connection)
    } catch (error) {
      throw connectError(this.options.servers, error)
    }
  }

  /** Takes the bus's logger, unless the transport was given one of its own. */
  attach(context: TransportContext): void {
    if (this.options.logger === undefined) this.logger = context.logger
  }

  private async watch(nc: NatsConnection): Promise<void> {
    try {
      for await (const status of nc.status()) {
        logStatus(this.logger, status)
        for (const s of this.subscriptions) {
          if (!(s instanceof PullSubscription)) continue
          if (status.type === 'disconnect') s.disconnected()
          else if (status.type === 'reconnect') s.reconnected()
        }
      }
    } catch {
      // The status stream ends with the connection; nothing is left to tell.
    }
  }
}

/** Logs what the connection tells about itself: a loss once at `warn`, the return at `info`. */
function logStatus(logger: Logger, status: Status): void {
  const server = 'server' in status ? { server: String(status.server) } : {}
  if (status.type === 'disconnect') logger.warn(server, 'nats: disconnected; reconnecting')
  else if (status.type === 'reconnect') logger.info(server, 'nats: reconnected')
  else if (status.type === 'error') logger.warn(errorFields(status.error), 'nats: connection error')
  else if (status.type === 'slowConsumer') logger.warn({}, 'nats: slow consumer, messages dropped')
}

/**
 * Creates a NATS JetStream transport.
 * @throws {ConfigurationError} for unknown or out-of-range options.
 * @example
 * const transport = natsTransport({ servers: 'nats://127.0.0.1:4222' })
 * const bus = createEventBus({ transport, source: 'hr-service' })
 */
export function natsTransport(options: NatsTransportOptions = {}): NatsTransport {
  return new NatsTransport(options)
}
