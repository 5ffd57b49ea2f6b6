import { hostname } from 'node:os'
import {
  ClosedError,
  ConfigurationError,
  type InboundMessage,
  type OutboundMessage,
  type StartAt,
  startAtTime,
  type Transport,
  type TransportFeatures,
  type TransportHealth,
  type TransportSubscribeOptions,
  type TransportSubscription,
  withTimeout,
} from '@switchyard/core/transport'
import { type Cluster, Redis } from 'ioredis'
import { connectionError } from './errors.js'
import { idBefore, idBeforeTime, StreamEntry, topicKeys } from './mapping.js'
import { type RedisTransportOptions, type ResolvedRedisOptions, resolveOptions } from './options.js'
import { Publisher } from './publisher.js'
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
  private readonly streams = new Map<string, string>()
  private connecting: Promise<void> | undefined
  private closing: Promise<void> | undefined
  private closed = false
  private lastError: Error | undefined

  constructor(options: RedisTransportOptions = {}) {
    this.config = resolveOptions(options)
    this.subscribeDefaults = this.config.subscribeDefaults
    this.ownsClient = this.config.client === undefined
    this.client = this.config.client ?? new Redis(this.config.connection)
    // Without a listener ioredis prints every failed reconnect; keep the last for health().
    this.client.on('error', (error: Error) => {
      this.lastError = error
    })
    this.publisher = new Publisher(this.client, this.config.maxStreamLength, isCluster(this.client))
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
    return this.publisher.publish(topic, this.streamKey(topic), messages)
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
    reader.on('error', () => undefined)
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

  /** `up` when Redis answers `PING` within `connectTimeoutMs`. Never throws. */
  async health(): Promise<TransportHealth> {
    if (this.closing !== undefined) return { status: 'down', detail: 'transport closed' }
    if (this.client.status !== 'ready') {
      return {
        status: 'down',
        detail: `connection ${this.client.status}${this.lastError ? `: ${this.lastError.message}` : ''}`,
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

  private streamKey(topic: string): string {
    let stream = this.streams.get(topic)
    if (stream === undefined) {
      stream = topicKeys(this.config.keyPrefix, topic).stream
      // Topics are few; the cap only guards against a process that invents them without end.
      if (this.streams.size < 10_000) this.streams.set(topic, stream)
    }
    return stream
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
      client.status === 'wait' || client.status === 'end'
        ? client.connect()
        : new Promise<void>((resolve) => client.once('ready', () => resolve()))
    try {
      await withTimeout(ready, this.config.connectTimeoutMs, what)
    } catch (error) {
      // Stop our own connection from retrying in the background: the caller decides whether to
      // try again. A client the user brought keeps its own reconnect policy.
      if (client !== this.client || this.ownsClient) client.disconnect()
      throw connectionError(`${what} failed`, error)
    }
  }
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
