import type { EventEnvelope } from './envelope.js'
import type { Logger } from './logger.js'
import type { StartAt } from './start-at.js'
import type { SubscribeDefaults } from './subscribe-options.js'
import type { TopicSettings } from './topic-settings.js'

export type { StartAt } from './start-at.js'

/** A message handed to a transport for publishing. */
export interface OutboundMessage {
  /** Event id: transports that de-duplicate (NATS `Nats-Msg-Id`) use it. */
  id: string
  /** Partition / ordering key, from the envelope's `partitionkey`. */
  key: string | undefined
  /** Encoded headers. */
  headers: Record<string, string>
  /** Encoded body. */
  body: Uint8Array
  /**
   * The body as the string it encodes, when the codec made it from text (JSON). A transport
   * that sends strings can use it instead of `body` (see `TransportFeatures.textBodies`).
   */
  text?: string
  /** The envelope itself, set only for transports with `features.passByReference`. */
  event?: EventEnvelope
}

/** Messages a handler published under exactly-once, committed with the consumed position. */
export interface TransactionalOutput {
  /** Destination topic. */
  topic: string
  /** Encoded messages, in publish order. */
  messages: OutboundMessage[]
}

/** Options of `Transport.nack`. */
export interface NackOptions {
  /**
   * Redeliver no sooner than this. Core passes a value above 0 only to transports with
   * `features.nativeDelay` and never on an `ephemeral` subscription; elsewhere it waits out the
   * delay itself and then nacks with 0, so an adapter never parks a message on a timer.
   */
  delayMs: number
  /**
   * Handling attempts already made for this message, the failed one included: the next
   * delivery should report `attempt + 1` as its `InboundMessage.attempt`. A transport that
   * cannot carry a counter through the broker may ignore it and count deliveries itself; the
   * retry budget then counts broker redeliveries only. On a give-back at close (nothing failed)
   * it is the delivered attempt minus one, so the next delivery repeats the same number.
   */
  attempt: number
}

/** A message delivered by a transport subscription. */
export interface InboundMessage {
  /** Topic it was read from. */
  readonly topic: string
  /** Encoded headers. */
  readonly headers: Record<string, string>
  /** Encoded body. */
  readonly body: Uint8Array
  /** Partition / ordering key, when the transport knows it. */
  readonly key: string | undefined
  /** 1-based delivery attempt: counts broker redeliveries and carried in-process retries. */
  readonly attempt: number
  /** Broker position (stream id, sequence, partition/offset), for logs and dead letters. */
  readonly position?: string
  /**
   * When the broker stored it, in milliseconds since the epoch, when the transport knows: the
   * `time` of an event that arrived without one.
   */
  readonly timestamp?: number | undefined
  /** Set by pass-by-reference transports: the envelope, no decoding needed. */
  readonly event?: EventEnvelope | undefined
  /**
   * Settles the message: it will not be delivered to this group again. On a subscription opened
   * with `exactlyOnce`, core passes the handler's publishes as `outputs` (maybe none), and the
   * transport stores them and this message's position in one transaction: both or neither.
   */
  ack(outputs?: readonly TransactionalOutput[]): void | Promise<void>
  /** Gives the message back for redelivery after `delayMs`. */
  nack(options: NackOptions): void | Promise<void>
}

/** A group's subscription at the transport level: the dispatcher pulls from it. */
export interface TransportSubscription {
  /**
   * Asks for between 1 and `max` messages. The transport answers exactly once: `deliver` with
   * 1..`max` messages as soon as any are available (synchronously when some are buffered, or
   * from inside the client's own callback, so a handler starts in the turn its batch arrived),
   * `deliver([])` once the subscription is closed or `signal` aborts (nothing more will come),
   * or `fail(error)` for a read error, after which the dispatcher asks again later. The
   * dispatcher never has two requests open; it asks again once there is room, which is how
   * backpressure reaches the broker. A promise-based client answers with
   * `read().then(deliver, fail)`.
   */
  pull(
    max: number,
    signal: AbortSignal,
    deliver: (messages: InboundMessage[]) => void,
    fail: (error: unknown) => void,
  ): void
  /** Stops delivery. Messages pulled and not settled become available for redelivery. */
  close(): Promise<void>
}

/** Options the bus passes to `Transport.subscribe`. */
export interface TransportSubscribeOptions {
  /** Consumer group: load-balanced inside, fan-out across groups. */
  group: string
  /** Where a new group starts. */
  startAt: StartAt
  /** Most messages pulled and not yet settled. */
  prefetch: number
  /**
   * A private, short-lived subscription of this process (request/reply inboxes): nothing needs
   * to survive it, no other member joins its group, and it is never retried with a delay. A
   * transport may serve it with a cheaper mechanism (NATS: a core subscription instead of a
   * durable consumer) and should leave no state behind on close. @default false
   */
  ephemeral?: boolean
  /**
   * `delivery: 'exactly-once'`, offered only by transports with `features.exactlyOnce`: each
   * `ack(outputs)` commits the outputs and the message's position in one transaction. @default false
   */
  exactlyOnce?: boolean
}

/** Options the bus passes to `Transport.publish`. */
export interface TransportPublishOptions {
  /**
   * The topic is a request/reply inbox that an `ephemeral` subscription of another bus reads (a
   * reply to `bus.request()`): nobody needs it stored, and it is worthless once the requester
   * stopped waiting. A transport may send it without persistence (NATS: a core publish instead
   * of a JetStream one). @default false
   */
  temporary?: boolean
}

/** Capability flags, shared with the conformance suite. */
export interface TransportFeatures {
  /** Groups load-balance inside and fan out across. */
  consumerGroups: boolean
  /** Same-key events are delivered in publish order. */
  orderedPerKey: boolean
  /** Events survive the subscriber closing (and the broker restarting). */
  persistent: boolean
  /** A new group can start from the beginning of retained history. */
  replayFromStart: boolean
  /**
   * The broker delays redelivery itself (`nack({ delayMs })`), without holding a consumer.
   * Without it core waits out a retry delay in process (the message stays held, its lane
   * waits) and nacks with 0 only when it must give the message back.
   */
  nativeDelay: boolean
  /** Subscriptions may use `*` (one token) and `>` (the rest) wildcards in topics. @default false */
  wildcards?: boolean
  /**
   * `publish` sends a message's `text` whenever it has one and reads `body` only when it has
   * not. The bus then encodes `body` on first read only (an accessor on the message's prototype,
   * so a spread copy keeps `text` but not `body`). @default false
   */
  textBodies?: boolean
  /**
   * Messages carry the envelope itself (`OutboundMessage.event` in, `InboundMessage.event` out)
   * and no bytes: the bus skips encoding and decoding. In-process transports only. @default false
   */
  passByReference?: boolean
  /**
   * The transport commits a handler's publishes and the consumed position in one transaction
   * (`subscribe(..., { delivery: 'exactly-once' })`). @default false
   */
  exactlyOnce?: boolean
}

/** One consumer group of a topic as its transport sees it (`Transport.inspect`). */
export interface TransportGroupInspection {
  /** The group's name, as given to `subscribe`. */
  group: string
  /** Events stored on the topic and not yet delivered to the group; `null` when unknown. */
  lag: number | null
  /** Events delivered to a member and not yet settled; `null` when the broker cannot tell. */
  pending: number | null
  /** Age in ms of the oldest event delivered and not settled (its publish time); `null` when none or unknown. */
  oldestUnsettledAgeMs: number | null
}

/** One topic as its transport sees it (`Transport.inspect`). */
export interface TransportTopicInspection {
  /** The topic. */
  topic: string
  /** Events retained on the broker; `null` when unknown. */
  retained: number | null
  /** Their size in bytes where the broker reports it, else `null`. */
  bytes: number | null
  /** The topic's consumer groups. */
  groups: TransportGroupInspection[]
}

/** Result of a health probe. */
export interface TransportHealth {
  /** `up` when the broker answers. */
  status: 'up' | 'down'
  /** Short reason when down, or broker details when up. */
  detail?: string
}

/** What a bus hands the transport it was created over (`Transport.attach`). */
export interface TransportContext {
  /** The bus's logger: the transport logs through it unless it was given a logger of its own. */
  readonly logger: Logger
}

/**
 * What every adapter implements: primitives only. Codec, retry, dead-lettering, lanes and
 * middleware are core's, written once.
 */
export interface Transport {
  /** Short name used in logs and span attributes (`memory`, `redis`, `nats`, `kafka`). */
  readonly name: string
  /** Capability flags. */
  readonly features: TransportFeatures
  /**
   * Called by `createEventBus` once, before anything else, with what the bus shares with its
   * transport (its logger). A transport is usually created before its bus, so options that
   * belong to the bus reach it here. A transport given its own `logger` option keeps it.
   */
  attach?(context: TransportContext): void
  /** Opens connections. Called once by the bus before the first publish or subscribe. */
  connect(): Promise<void>
  /**
   * Stores the messages on the topic, in order. Resolves when the broker confirmed all of them.
   * Rejects with a `SwitchyardError` whose `retryable` says whether trying again can help
   * (`ConnectionError`, `TimeoutError`: yes; a refusal such as a too-large message: a
   * `PublishError` with `retryable: false`), or `ClosedError` after `close()`. The bus retries
   * retryable failures itself (`publishRetry`); an adapter does not retry a publish.
   */
  publish(
    topic: string,
    messages: readonly OutboundMessage[],
    options?: TransportPublishOptions,
  ): Promise<void>
  /** Opens a group subscription on a topic. */
  subscribe(topic: string, options: TransportSubscribeOptions): Promise<TransportSubscription>
  /** Reads up to `limit` retained messages from the start without consuming them (dead-letter listing). */
  browse?(topic: string, options: { limit: number }): Promise<InboundMessage[]>
  /**
   * Figures for operators (`bus.inspect()`): per topic the retained count and bytes, per
   * consumer group the lag, pending and the age of the oldest unsettled event. With `topics`,
   * one entry per topic asked for (a topic the broker does not have: retained 0, no groups);
   * without, every topic the broker keeps for this transport. Reads only: joins no group.
   */
  inspect?(topics?: readonly string[]): Promise<TransportTopicInspection[]>
  /**
   * Moves an existing group of the topic to `position` (`bus.seek`); the group's next member
   * reads from there. Rejects with a `ConfigurationError` when the group does not exist, or has
   * members running where the broker cannot move it safely.
   */
  seek?(topic: string, group: string, position: StartAt): Promise<void>
  /**
   * Creates `topic` on the broker with the settings it has (checked by core), applied at
   * creation only: an existing topic keeps its own (`created: false`, nothing applied). Resolves
   * with the settings the broker took. Transports whose topics need no creation leave it out.
   */
  createTopic?(
    topic: string,
    settings: TopicSettings,
  ): Promise<{ created: boolean; applied: (keyof TopicSettings)[] }>
  /** Probes the broker. */
  health(): Promise<TransportHealth>
  /** Closes connections. Subscriptions are closed by the bus first. */
  close(): Promise<void>
  /**
   * Subscription settings that came with the transport's configuration, read by core's
   * `subscribeDefaultsFromEnv()` in an adapter's `fromEnv()` (Olive's `EVENTS_MAX_RETRIES`,
   * `DLQ_ENABLED`). The bus applies them under what `subscribe` is given: an option passed to
   * `subscribe` wins.
   */
  readonly subscribeDefaults?: SubscribeDefaults | undefined
}
