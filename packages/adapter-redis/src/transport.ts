import { hostname } from 'node:os'
import {
  ClosedError,
  ConfigurationError,
  consoleLogger,
  type InboundMessage,
  type Logger,
  type OutboundMessage,
  type StartAt,
  startAtTime,
  type Transport,
  type TransportContext,
  type TransportFeatures,
  type TransportHealth,
  type TransportSubscribeOptions,
  type TransportSubscription,
  type TransportTopicInspection,
  withTimeout,
} from '@switchyard/core/transport'
import { type Cluster, Redis, type RedisOptions } from 'ioredis'
import { routeClientWarnings, watchConnection } from './client-log.js'
import { connectionError } from './errors.js'
import { inspectTopics } from './inspect.js'
import { idBefore, idBeforeTime, StreamEntry, type TopicKeys, topicKeys } from './mapping.js'
import { type RedisTransportOptions, type ResolvedRedisOptions, resolveOptions } from './options.js'
import { Publisher } from './publisher.js'
import { seekGroup } from './seek.js'
import { RedisSubscription } from './subscription.js'

const FEATURES: TransportFeatures = {
  consumerGroups: true,
  orderedPerKey: true,
  persistent: true,
  replayFromStart: true,
  nativeDelay: true,
  // toFields sends a message's text as the data field when it has one.
  textBodies: true,
}

let instances = 0

/**
 * Redis Streams transport: one stream per topic, consumer groups with `XREADGROUP`, parked
 * redeliveries in a sorted set, reclaim of a crashed consumer's entries with `XAUTOCLAIM`.
 */
export class RedisTransport implements Transport {
  /** Always `redis`. */
  readonly name = 'redis'
  /** Capability flags. */
  readonly features = FEATURES
  /** The command connection (publishes, acknowledgements, scripts); readers are duplicates of it. */
  readonly client: Redis | Cluster
  /** Subscription settings from the configuration (`fromEnv()`); `subscribe` options win. */
  readonly subscribeDefaults: Transport['subscribeDefaults']
  private readonly config: ResolvedRedisOptions
  private readonly ownsClient: boolean
  private readonly publisher: Publisher
  private readonly subscriptions = new Set<RedisSubscription>()
  private readonly consumerBase =
    `${hostname()}-${process.pid}-${(++instances).toString(36)}${Math.random().toString(36).slice(2, 6)}`
  private consumers = 0
  private readers = 0
  private readonly topics = new Map<string, TopicKeys>()
  private connecting: Promise<void> | undefined
  private closing: Promise<void> | undefined
  private closed = false
  private readonly connection: { last(): Error | undefined }
  private logger: Logger

  constructor(options: RedisTransportOptions = {}) {
    this.config = resolveOptions(options)
    this.subscribeDefaults = this.config.subscribeDefaults
    this.ownsClient = this.config.client === undefined
    this.logger = this.config.logger ?? consoleLogger('warn')
    this.client = this.config.client ?? ownClient(this.config.connection)
    if (this.ownsClient) routeClientWarnings(this.client, () => this.logger)
    // Without a listener ioredis prints every failed reconnect; each new error is logged once.
    this.connection = watchConnection(this.client, () => this.logger)
    const { maxStreamLength: maxLength, lossyTrim: lossy } = this.config
    const retention = maxLength === undefined ? undefined : { maxLength, lossy }
    this.publisher = new Publisher(this.client, retention, isCluster(this.client))
  }

  /** Takes the bus's logger, unless the transport was given one of its own. */
  attach(context: TransportContext): void {
    if (this.config.logger === undefined) this.logger = context.logger
  }

  /**
   * Connects the command connection.
   * @throws {ConnectionError} when Redis does not answer within `connectTimeoutMs`.
   */
  connect(): Promise<void> {
    if (this.closing !== undefined)
      return Promise.reject(new ClosedError('The Redis transport is closed'))
    this.connecting ??= this.open(this.client, 'connecting to Redis').catch((error: unknown) => {
      this.connecting = undefined
      throw error
    })
    return this.connecting
  }

  /** Appends the messages to the topic's stream in order; resolves when Redis stored all of them. */
  publish(topic: string, messages: readonly OutboundMessage[]): Promise<void> {
    // Publishes that race close() are still sent: close waits for them before quitting.
    if (this.closed) return Promise.reject(new ClosedError('The Redis transport is closed'))
    if (messages.length === 0) return Promise.resolve()
    // Not async: this runs for every event, and a frame per publish was measurable garbage.
    return this.publisher.publish(topic, this.keys(topic), messages)
  }

  /**
   * Creates the group if needed (`XGROUP CREATE ... MKSTREAM`) at `startAt`, and opens a
   * consumer with its own connection for blocking reads.
   * @throws {ConfigurationError} beyond `maxConnections` or for an unusable `startAt`.
   */
  async subscribe(
    topic: string,
    options: TransportSubscribeOptions,
  ): Promise<TransportSubscription> {
    if (this.closing !== undefined) throw new ClosedError('The Redis transport is closed')
    if (this.readers + 2 > this.config.maxConnections) {
      throw new ConfigurationError(
        `Subscribing to "${topic}" needs connection ${this.readers + 2}, over maxConnections (${this.config.maxConnections}); raise it or share subscriptions`,
        { field: 'redisTransport.maxConnections' },
      )
    }
    // Counted before the first await, so subscriptions opened in parallel respect the limit.
    this.readers++
    try {
      return await this.openSubscription(topic, options)
    } catch (error) {
      this.readers--
      throw error
    }
  }

  private async openSubscription(
    topic: string,
    options: TransportSubscribeOptions,
  ): Promise<RedisSubscription> {
    const keys = topicKeys(this.config.keyPrefix, topic)
    const { group } = options
    const createGroup = (id: string) => this.createGroup(keys.stream, group, id)
    await createGroup(startId(options.startAt))
    // Blocking reads wait out a restart instead of failing after ioredis' 20 reconnect attempts.
    const reader = isCluster(this.client)
      ? this.client.duplicate([], {
          redisOptions: { ...this.client.options.redisOptions, maxRetriesPerRequest: null },
        })
      : this.client.duplicate({ maxRetriesPerRequest: null })
    // The command connection reports connection errors; a reader's are the same ones.
    reader.on('error', () => undefined)
    routeClientWarnings(reader, () => this.logger)
    await this.open(reader, 'opening a reader connection')
    const subscription: RedisSubscription = new RedisSubscription({
      topic,
      group,
      consumer: `${this.consumerBase}-${++this.consumers}`,
      keys,
      client: this.client,
      reader,
      consumerTimeoutMs: this.config.consumerTimeoutMs,
      ephemeral: options.ephemeral === true,
      prefetchCount: this.config.prefetchCount,
      // Earlier entries may not have been handled: start over rather than skip any.
      recreateGroup: () => createGroup('0'),
      onClosed: () => {
        this.readers--
        this.subscriptions.delete(subscription)
      },
    })
    await subscription.fetchReaderId()
    this.subscriptions.add(subscription)
    return subscription
  }

  /** Reads up to `limit` entries from the start of the topic's stream without consuming them. */
  async browse(topic: string, options: { limit: number }): Promise<InboundMessage[]> {
    const { stream } = topicKeys(this.config.keyPrefix, topic)
    const args = [stream, '-', '+', 'COUNT', options.limit]
    const entries = (await this.client.callBuffer('XRANGE', args)) as Array<[Buffer, Buffer[]]>
    return entries.map(([id, fields]) => new StreamEntry(topic, id.toString(), fields, 1))
  }

  /** Stream length and memory per topic; lag, pending and oldest pending age per group. */
  inspect(topics?: readonly string[]): Promise<TransportTopicInspection[]> {
    return inspectTopics(this.client, this.config.keyPrefix, topics)
  }

  /** Moves an existing group to `position` (`XGROUP SETID`); safe while members run. */
  async seek(topic: string, group: string, position: StartAt): Promise<void> {
    await this.connect()
    const { stream } = topicKeys(this.config.keyPrefix, topic)
    await seekGroup(this.client, stream, topic, group, startId(position))
  }

  /** `up` when Redis answers `PING` within `connectTimeoutMs`. Never throws. */
  async health(): Promise<TransportHealth> {
    if (this.closing !== undefined) return { status: 'down', detail: 'transport closed' }
    if (this.client.status !== 'ready') {
      const lastError = this.connection.last()
      return {
        status: 'down',
        detail: `connection ${this.client.status}${lastError ? `: ${lastError.message}` : ''}`,
      }
    }
    try {
      const started = performance.now()
      await withTimeout(this.client.ping(), this.config.connectTimeoutMs, 'PING')
      return { status: 'up', detail: `PING ${(performance.now() - started).toFixed(1)} ms` }
    } catch (error) {
      return { status: 'down', detail: (error as Error).message }
    }
  }

  /** Waits for queued publishes, closes every subscription, then the connections it opened. */
  close(): Promise<void> {
    this.closing ??= this.doClose()
    return this.closing
  }

  private async doClose(): Promise<void> {
    await this.publisher.drain()
    this.closed = true
    await Promise.allSettled([...this.subscriptions].map((s) => s.close()))
    if (!this.ownsClient) return
    if (this.client.status === 'wait' || this.client.status === 'end') this.client.disconnect()
    else await this.client.quit().catch(() => this.client.disconnect())
  }

  private keys(topic: string): TopicKeys {
    let keys = this.topics.get(topic)
    if (keys === undefined) {
      keys = topicKeys(this.config.keyPrefix, topic)
      // Topics are few; the cap only guards against a process that invents them without end.
      if (this.topics.size < 10_000) this.topics.set(topic, keys)
    }
    return keys
  }

  private async createGroup(stream: string, group: string, id: string): Promise<void> {
    try {
      await this.client.xgroup('CREATE', stream, group, id, 'MKSTREAM')
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      if (message.startsWith('BUSYGROUP')) return
      if (/^(WRONGTYPE|NOPERM)/u.test(message)) {
        throw new ConfigurationError(
          `Cannot use "${stream}" as the stream of group "${group}": ${message}. Choose another keyPrefix or grant the stream commands`,
          { field: 'redisTransport.keyPrefix', cause: error },
        )
      }
      throw connectionError(`Creating group "${group}" on "${stream}" failed`, error)
    }
  }

  /** Connects a lazy client, or waits until a connecting one is ready, within `connectTimeoutMs`. */
  private async open(client: Redis | Cluster, what: string): Promise<void> {
    if (client.status === 'ready') return
    const ready =
      client.status === 'wait' || client.status === 'end' ? client.connect() : untilReady(client)
    try {
      await withTimeout(ready, this.config.connectTimeoutMs, what)
    } catch (error) {
      // A reader that did not open is dropped: stop it retrying in the background. Our command
      // connection ended by itself after a refused connect (see ownClient); one our timeout cut
      // short is ended here, so the next connect() starts afresh. A client the user brought
      // keeps its own reconnect policy.
      if (client !== this.client) client.disconnect()
      else if (this.ownsClient && client.status !== 'end') client.disconnect()
      // "Connection is closed." says less than the socket error behind it (ECONNREFUSED ...).
      const closed = (error as Error).message === 'Connection is closed.'
      const cause = closed && client === this.client ? (this.connection.last() ?? error) : error
      throw connectionError(`${what} failed`, cause)
    }
  }
}

/**
 * The command connection the transport owns. Until it has been ready once, a failed connect
 * ends it (status `end`) instead of leaving ioredis to reconnect on its own: `connect()` then
 * fails fast while the server is down and starts afresh on the next call, so a bus created
 * before Redis came up works once it is up. (Disconnecting a client that is waiting to
 * reconnect leaves ioredis in `reconnecting` with no timer, and every later call times out.)
 * Once ready, ioredis' own backoff rides out restarts; readers duplicated from it inherit that.
 */
function ownClient(options: RedisOptions): Redis {
  let wasReady = false
  const client = new Redis({
    ...options,
    retryStrategy: (times) => (wasReady ? Math.min(times * 50, 2_000) : null),
  })
  client.once('ready', () => {
    wasReady = true
  })
  return client
}

/** Resolves when a connecting client is ready; rejects when it gives up (`end`). */
function untilReady(client: Redis | Cluster): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onReady = (): void => {
      client.off('end', onEnd)
      resolve()
    }
    const onEnd = (): void => {
      client.off('ready', onReady)
      reject(new Error('the connection ended'))
    }
    client.once('ready', onReady)
    client.once('end', onEnd)
  })
}

function isCluster(client: Redis | Cluster): client is Cluster {
  return typeof (client as Cluster).nodes === 'function'
}

function startId(startAt: StartAt): string {
  if (startAt === 'latest') return '$'
  if (startAt === 'earliest') return '0'
  const time = startAtTime(startAt)
  if (time !== undefined) return idBeforeTime(time)
  const sequence = 'sequence' in startAt ? String(startAt.sequence) : ''
  const id = idBefore(sequence)
  if (id === '') {
    const message = `startAt.sequence "${sequence}" is not a Redis stream id (ms or ms-seq)`
    throw new ConfigurationError(message, { field: 'startAt.sequence' })
  }
  return id
}

/**
 * Creates a Redis Streams transport.
 * @throws {ConfigurationError} for unknown or invalid options.
 * @example
 * const bus = createEventBus({ transport: redisTransport({ url: 'redis://127.0.0.1:6379' }), source: 'hr' })
 */
export function redisTransport(options: RedisTransportOptions = {}): RedisTransport {
  return new RedisTransport(options)
}
