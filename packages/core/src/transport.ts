import type { EventEnvelope } from './envelope.js'
import type { SubscribeOptions } from './subscription.js'

/** Where a new consumer group starts reading. Existing groups resume where they left off. */
export type StartAt =
  | 'latest'
  | 'earliest'
  | { time: Date | string | number }
  | { sequence: string | number | bigint }

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
  /** The envelope itself, for transports that pass events by reference (memory). */
  event?: EventEnvelope
}

/** Options of `Transport.nack`. */
export interface NackOptions {
  /** Redeliver no sooner than this. */
  delayMs: number
  /** Attempts made so far, so the retry budget survives the trip through the broker. */
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
  /** Settles the message: it will not be delivered to this group again. */
  ack(): void | Promise<void>
  /** Gives the message back for redelivery after `delayMs`. */
  nack(options: NackOptions): void | Promise<void>
}

/** A group's subscription at the transport level: the dispatcher pulls from it. */
export interface TransportSubscription {
  /**
   * Resolves with between 1 and `max` messages as soon as any are available, or with an empty
   * array once the subscription is closed or `signal` aborts. Never resolves with more than `max`:
   * this is how backpressure reaches the broker.
   */
  pull(max: number, signal: AbortSignal): Promise<InboundMessage[]>
  /**
   * Optional form of `pull` for transports whose client hands records over in a callback
   * (kafkajs's `eachBatch`): the same contract, but the messages go to `deliver` and an error to
   * `fail`, synchronously, in the turn they arrive. A promise's continuation runs only after
   * every microtask queued before it, and a client's fetch path queues many, so the handler
   * would start tens of microseconds later. The dispatcher uses it when present.
   */
  pullNow?(
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
  /** The broker delays redelivery itself (`nack(delay)`), without holding a consumer. */
  nativeDelay: boolean
  /** Subscriptions may use `*` (one token) and `>` (the rest) wildcards in topics. @default false */
  wildcards?: boolean
  /**
   * `publish` sends a message's `text` whenever it has one and reads `body` only when it has
   * not. The bus then encodes `body` on first read only (an accessor on the message's prototype,
   * so a spread copy keeps `text` but not `body`). @default false
   */
  textBodies?: boolean
}

/** Result of a health probe. */
export interface TransportHealth {
  /** `up` when the broker answers. */
  status: 'up' | 'down'
  /** Short reason when down, or broker details when up. */
  detail?: string
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
  /** Opens connections. Called once by the bus before the first publish or subscribe. */
  connect(): Promise<void>
  /** Stores the messages on the topic, in order. Resolves when the broker confirmed all of them. */
  publish(topic: string, messages: readonly OutboundMessage[]): Promise<void>
  /** Opens a group subscription on a topic. */
  subscribe(topic: string, options: TransportSubscribeOptions): Promise<TransportSubscription>
  /** Reads up to `limit` retained messages from the start without consuming them (dead-letter listing). */
  browse?(topic: string, options: { limit: number }): Promise<InboundMessage[]>
  /** Probes the broker. */
  health(): Promise<TransportHealth>
  /** Closes connections. Subscriptions are closed by the bus first. */
  close(): Promise<void>
  /**
   * Subscription settings that came with the transport's configuration (Olive's
   * `EVENTS_MAX_RETRIES`, `DLQ_ENABLED` read by a `fromEnv()`). The bus applies them under what
   * `subscribe` is given: an option passed to `subscribe` wins.
   */
  readonly subscribeDefaults?: Pick<SubscribeOptions, 'retry' | 'deadLetter'> | undefined
}
