import {
  ClosedError,
  ConfigurationError,
  ConnectionError,
  consoleLogger,
  type InboundMessage,
  InFlight,
  type Logger,
  type OutboundMessage,
  PublishError,
  type StartAt,
  type SubscribeDefaults,
  type TopicSettings,
  type TransactionalOutput,
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
import { browseTopic } from './browse.js'
import {
  type AdminLike,
  createAdmin,
  createClient,
  createConsumer,
  createProducer,
  createTransactionalProducer,
  hasCompressionCodec,
  type ProducerLike,
  partitionSpreader,
} from './client.js'
import { connectionError, handshakeError, invalidTopic, publishError } from './errors.js'
import { bootstrapFailures, type Handshake } from './handshake.js'
import { inspectTopics } from './inspect.js'
import { toRecord } from './mapping.js'
import {
  type KafkaClientLike,
  type KafkaTransportOptions,
  type ResolvedKafkaOptions,
  resolveOptions,
} from './options.js'
import { capturePositions } from './positions.js'
import { PublishBatcher } from './publisher.js'
import { seekGroup } from './seek.js'
import { KafkaSubscription } from './subscription.js'
import { createKafkaTopic, topicPartitions } from './topics.js'
import { TransactionalProducers } from './transactions.js'

const FEATURES: TransportFeatures = {
  consumerGroups: true,
  orderedPerKey: true,
  persistent: true,
  replayFromStart: true,
  // Kafka cannot delay a record: core waits a retry delay out in process and nacks with 0.
  nativeDelay: false,
  // JSON bodies reach kafkajs as the codec's text: encoded once, into the produce request.
  textBodies: true,
  // A handler's publishes and the consumed offset commit in one Kafka transaction.
  exactlyOnce: true,
}

const CLOSED = 'The Kafka transport is closed'
const COMPRESSION_CODES = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const

/**
 * The Kafka transport (kafkajs): a producer that merges concurrent publishes into one request,
 * one consumer-group member per subscription, offsets committed only up to what was handled,
 * and topics created on first use.
 */
export class KafkaTransport implements Transport {
  /** Always `kafka`. */
  readonly name = 'kafka'
  /** Capability flags. */
  readonly features = FEATURES
  /** The kafkajs client in use (yours when you passed `client`). */
  readonly client: KafkaClientLike
  /** Subscription settings from `fromEnv()`; the bus applies them under `subscribe`'s options. */
  readonly subscribeDefaults: SubscribeDefaults | undefined
  private readonly options: ResolvedKafkaOptions
  private readonly admin: AdminLike
  private readonly producer: ProducerLike
  // The producer connects with the first publish: a consume-only transport never needs one.
  private producerConnecting: Promise<void> | undefined
  private readonly batcher: PublishBatcher
  private readonly topics = new Map<string, Promise<number>>()
  /** Partition counts of the topics whose creation (or check) has finished. */
  private readonly partitionCounts = new Map<string, number>()
  private readonly subscriptions = new Set<KafkaSubscription>()
  private connecting: Promise<void> | undefined
  private closed = false
  // Publishes still creating their topic (the others are in the batcher already).
  private readonly creating = new InFlight()
  private readonly opening = new InFlight()
  private readonly spread = partitionSpreader()
  private logger: Logger
  private readonly clientGiven: boolean

  constructor(options: KafkaTransportOptions = {}) {
    this.options = resolveOptions(options)
    this.clientGiven = options.client !== undefined
    const codec = COMPRESSION_CODES[this.options.compression]
    if (options.client === undefined && codec > 0 && !hasCompressionCodec(codec)) {
      throw new ConfigurationError(
        `compression "${this.options.compression}" needs a codec registered in kafkajs's CompressionCodecs before the transport is created (for example kafkajs-snappy, kafkajs-lz4, @kafkajs/zstd), or use "gzip"`,
        { field: 'compression' },
      )
    }
    this.logger = this.options.logger ?? consoleLogger('warn')
    this.client = options.client ?? createClient(this.options, () => this.logger)
    this.subscribeDefaults = options.subscribeDefaults
    this.admin = createAdmin(this.client)
    this.producer = createProducer(this.client)
    const { acks, requestTimeoutMs, compression, lingerMs, batchSize } = this.options
    this.batcher = new PublishBatcher(
      async (topicMessages) => {
        this.producerConnecting ??= this.producer.connect().catch((error: unknown) => {
          this.producerConnecting = undefined
          throw error
        })
        await this.producerConnecting
        await this.producer.sendBatch({
          acks,
          timeout: requestTimeoutMs,
          compression: COMPRESSION_CODES[compression],
          topicMessages,
        })
      },
      { lingerMs, batchSize, failure: publishError },
    )
  }

  /**
   * Connects to the cluster (the admin client); the producer follows with the first publish.
   * @throws {ConnectionError} when no broker answers.
   * @throws {ClosedError} after `close()`: a closed transport does not open again.
   */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError(CLOSED))
    this.connecting ??= this.dial().catch((error: unknown) => {
      this.connecting = undefined
      throw error
    })
    return this.connecting
  }

  /** Takes the bus's logger, unless the transport was given one of its own. */
  attach(context: TransportContext): void {
    if (this.options.logger === undefined) this.logger = context.logger
  }

  private async dial(): Promise<void> {
    // A quick handshake first: kafkajs would spend its retries on an address that is down, and
    // its 30 s request timeout on one that is not Kafka.
    const failures = await this.handshake()
    if (failures !== undefined) throw handshakeError(failures)
    try {
      await this.admin.connect()
    } catch (error) {
      throw connectionError(error, this.options.brokers)
    }
  }

  /** Every bootstrap address's failure when none answered as Kafka (never with `client`). */
  private handshake(): Promise<Handshake[] | undefined> {
    return this.clientGiven ? Promise.resolve(undefined) : bootstrapFailures(this.options)
  }

  /**
   * Stores messages on the topic, creating it first if needed. Concurrent calls are merged into
   * one produce request; resolves when the broker acknowledged every message (per `acks`). The
   * request is sent once: the bus retries a retryable failure. A `temporary` publish (a reply to
   * `bus.request()`) never creates its topic: a missing inbox means the requester is gone.
   * @throws {PublishError} when the broker did not confirm them (`retryable` says if a retry may help).
   * @throws {ConfigurationError} for a topic name Kafka cannot take (field `topic`).
   * @throws {ClosedError} after `close()`.
   */
  publish(
    topic: string,
    messages: readonly OutboundMessage[],
    options?: TransportPublishOptions,
  ): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError(CLOSED))
    const partitions = this.partitionCounts.get(topic)
    // A topic seen before goes straight into the batcher, in this turn of the event loop.
    if (partitions !== undefined) return this.enqueue(topic, messages, partitions)
    return this.publishToNewTopic(topic, messages, options?.temporary !== true)
  }

  private async publishToNewTopic(
    topic: string,
    messages: readonly OutboundMessage[],
    create: boolean,
  ): Promise<void> {
    let partitions: number
    try {
      partitions = await this.creating.track(this.ensureTopic(topic, create))
    } catch (error) {
      const ours = [ConfigurationError, ConnectionError, PublishError].some(
        (c) => error instanceof c,
      )
      if (ours) throw error
      throw publishError(error, topic, messages.length)
    }
    return this.enqueue(topic, messages, partitions)
  }

  /** Rejects with a `PublishError` (see the batcher's `failure`) when the broker did not confirm. */
  private enqueue(
    topic: string,
    messages: readonly OutboundMessage[],
    partitions: number,
  ): Promise<void> {
    return this.batcher.publish(topic, this.spread(topic, messages.map(toRecord), partitions))
  }

  /** Resolves once every publish made so far is confirmed (Olive's `flush()`). */
  async flush(): Promise<void> {
    // Publishes still creating their topic are not in the batcher yet: wait until they are.
    await this.creating.idle()
    await this.batcher.flush()
  }

  /**
   * Joins the consumer group `group` for the topic (one Kafka group member per subscription).
   * @throws {ConfigurationError} for a bad topic name; {ClosedError} after (or during) `close()`.
   */
  subscribe(topic: string, options: TransportSubscribeOptions): Promise<TransportSubscription> {
    if (this.closed) return Promise.reject(new ClosedError(CLOSED))
    return this.opening.track(this.open(topic, options))
  }

  private async open(
    topic: string,
    options: TransportSubscribeOptions,
  ): Promise<KafkaSubscription> {
    let subscription: KafkaSubscription | undefined
    try {
      await this.ensureTopic(topic)
      const starts = await capturePositions(this.admin, topic, options.group, options.startAt)
      subscription = this.member(topic, options, starts)
      const fromBeginning =
        options.startAt === 'earliest' || this.options.autoOffsetReset === 'earliest'
      await subscription.start(fromBeginning)
      if (!this.closed) {
        this.subscriptions.add(subscription)
        return subscription
      }
    } catch (error) {
      if (!this.closed) throw error
    }
    // close() came while the member was joining: it leaves again, nothing keeps running.
    await subscription?.close()
    throw new ClosedError(CLOSED)
  }

  private member(
    topic: string,
    options: TransportSubscribeOptions,
    starts: Map<number, string> | undefined,
  ): KafkaSubscription {
    const { sessionTimeoutMs, heartbeatIntervalMs, rebalanceTimeoutMs } = this.options
    const consumer = createConsumer(this.client, options.group, this.options)
    const subscription: KafkaSubscription = new KafkaSubscription({
      topic,
      groupId: options.group,
      consumer,
      admin: this.admin,
      prefetch: options.prefetch,
      startPositions: starts,
      commitIntervalMs: this.options.commitIntervalMs,
      drainMs: Math.min(rebalanceTimeoutMs, sessionTimeoutMs) / 2,
      heartbeatIntervalMs,
      ephemeral: options.ephemeral === true,
      ...(options.exactlyOnce === true ? { transactions: this.transactions(topic, options) } : {}),
      onClosed: () => this.subscriptions.delete(subscription),
    })
    return subscription
  }

  /** Exactly-once: a producer per input partition, and outputs as records on created topics. */
  private transactions(topic: string, { group }: TransportSubscribeOptions) {
    const make = (id: string) => createTransactionalProducer(this.client, id)
    const producers = new TransactionalProducers(make, `switchyard.${group}.${topic}.`)
    const records = (outputs: readonly TransactionalOutput[]) =>
      Promise.all(
        outputs.map(async ({ topic: to, messages }) => {
          const partitions = await this.ensureTopic(to)
          return { topic: to, messages: this.spread(to, messages.map(toRecord), partitions) }
        }),
      )
    return { topic, groupId: group, producers, records }
  }

  /** Reads up to `limit` retained records from the start, committing nothing. Bad name: ConfigurationError. */
  browse(topic: string, options: { limit: number }): Promise<InboundMessage[]> {
    const invalid = invalidTopic(topic)
    if (invalid !== undefined) return Promise.reject(invalid)
    return browseTopic(this.client, this.admin, topic, options.limit, this.options)
  }

  /** Sets an existing group's offsets to `position`; refused while it has members. */
  seek(topic: string, group: string, position: StartAt): Promise<void> {
    return this.connect().then(() => seekGroup(this.admin, topic, group, position))
  }

  /** Creates a missing topic with its partitions, replication, retention, compression, cleanup. */
  createTopic(topic: string, settings: TopicSettings) {
    const invalid = invalidTopic(topic)
    if (invalid !== undefined) return Promise.reject(invalid)
    return this.connect().then(() => createKafkaTopic(this.admin, topic, settings, this.options))
  }

  /** Retained records per topic; lag per group past its committed offsets (pending unknown). */
  inspect(topics?: readonly string[]): Promise<TransportTopicInspection[]> {
    return this.connect().then(() => inspectTopics(this.admin, topics))
  }

  /**
   * `up` with the broker count when the cluster answers a metadata request; `down` as soon as no
   * bootstrap address answers the handshake (within `connectTimeoutMs`, milliseconds when the
   * broker is down), without waiting on kafkajs's retries.
   */
  async health(): Promise<TransportHealth> {
    if (this.closed) return { status: 'down', detail: 'transport closed' }
    const failures = await this.handshake()
    if (failures !== undefined) return { status: 'down', detail: handshakeError(failures).message }
    try {
      const probe = this.connect().then(() => this.admin.describeCluster())
      const cluster = await withTimeout(probe, 5_000, 'the Kafka health probe')
      return {
        status: 'up',
        detail: `${cluster.brokers.length} broker(s), cluster ${cluster.clusterId}`,
      }
    } catch (error) {
      return { status: 'down', detail: (error as Error).message }
    }
  }

  /** Confirms pending publishes, leaves every group, disconnects. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    // Subscribes under way finish first: each either joins the set below or leaves again.
    await this.opening.idle()
    await Promise.allSettled([...this.subscriptions].map((s) => s.close()))
    // Publishes that started before close (some still creating their topic) are confirmed first.
    await this.flush()
    if (this.connecting !== undefined) {
      await this.connecting.catch(() => undefined)
      await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()])
      this.producerConnecting = undefined
      this.connecting = undefined
    }
  }

  /** Creates a missing topic (or refuses) once; its partition count. A bad name: ConfigurationError. */
  private ensureTopic(topic: string, create = true): Promise<number> {
    let known = this.topics.get(topic)
    if (known === undefined) {
      // Checked before the first use only: a topic seen before skips this on every publish.
      const invalid = invalidTopic(topic)
      if (invalid !== undefined) return Promise.reject(invalid)
      known = this.provisionTopic(topic, create)
      this.topics.set(topic, known)
      known.then(
        (partitions) => this.partitionCounts.set(topic, partitions),
        () => this.topics.delete(topic),
      )
    }
    return known
  }

  private async provisionTopic(topic: string, create: boolean): Promise<number> {
    if (this.connecting === undefined) await this.connect()
    else await this.connecting
    return topicPartitions(this.admin, topic, this.options, create)
  }
}

/**
 * Creates a Kafka transport.
 * @throws {ConfigurationError} for unknown or invalid options.
 * @example
 * const bus = createEventBus({ transport: kafkaTransport({ brokers: 'localhost:9092' }), source: 'hr' })
 * await bus.publish('employees.events', { type: 'employee.created', partitionkey: 'e1', data: { id: 'e1' } })
 */
export function kafkaTransport(options: KafkaTransportOptions = {}): KafkaTransport {
  return new KafkaTransport(options)
}
