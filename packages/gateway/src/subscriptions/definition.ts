/** How a subscription's events leave the gateway. */
export type DeliveryKind = 'webhook' | 'websocket'

/** CloudEvents HTTP content mode of webhook requests. */
export type ContentMode = 'binary' | 'structured'

/** Retry settings of a subscription, handed to core's retry policy. */
export interface SubscriptionRetry {
  /** Attempts in all, counting the first. */
  maxAttempts: number
  /** Delay after the first failure, in ms; doubles each attempt (with jitter). */
  initialBackoffMs: number
  /** Upper bound of a delay, in ms. */
  maxBackoffMs: number
}

/** A subscription as stored: a durable consumer group on a stream, with filters and a target. */
export interface SubscriptionDefinition {
  /** Subscription id (a UUID). */
  id: string
  /** Human name. */
  name: string
  /** Stream (topic) read. */
  streamId: string
  /** Consumer group as the client named it; the broker group adds a prefix and the tenant. */
  consumerGroup: string
  /** Broker group name (`<prefix>.<tenant>.<consumerGroup>`), unique per stream. */
  brokerGroup: string
  /** Tenant whose events only are delivered; `undefined` for every tenant. */
  tenant: string | undefined
  /** Type globs (`order.*`); empty for every type. */
  types: string[]
  /** Webhook or WebSocket delivery. */
  delivery: DeliveryKind
  /** Target of webhook delivery. */
  webhookUrl: string | undefined
  /** Binary (`ce-*` headers) or structured (`application/cloudevents+json`). */
  contentMode: ContentMode
  /** Signing secret (`whsec_<base64>`), shown once at creation. */
  secret: string
  /** Where the group starts when new: `latest`, `earliest` or an RFC 3339 time. */
  startAt: string
  /** Retry policy. */
  retry: SubscriptionRetry
  /** Deliveries in flight at once per gateway process; same partition key stays in order. */
  concurrency: number
  /** Per-request timeout of a webhook POST, in ms. */
  timeoutMs: number
  /** Time a WebSocket client has to acknowledge an event, in ms. */
  ackTimeoutMs: number
  /** Paused subscriptions have no readers on any gateway. */
  paused: boolean
  /** When it was created, ISO. */
  createdAt: string
  /** Who created it (token subject). */
  createdBy: string | undefined
}

/** What the gateways counted for a subscription, summed over every process. */
export interface SubscriptionCounters {
  /** Events delivered (2xx, or acknowledged by a WebSocket client). */
  delivered: number
  /** Failed attempts (each retry counts). */
  failed: number
  /** Events given up on and sent to the dead-letter topic. */
  deadLettered: number
  /** The last failure, in words (HTTP status and body excerpt). */
  lastError: string | undefined
  /** When the last failure happened, ISO. */
  lastErrorAt: string | undefined
  /** When the last event was delivered, ISO. */
  lastDeliveryAt: string | undefined
}

/** A stored subscription with its counters. */
export interface SubscriptionRecord extends SubscriptionDefinition {
  /** Counters flushed by every gateway process. */
  counters: SubscriptionCounters
}

/** Counts to add to a subscription's counters. */
export interface CounterDelta {
  delivered: number
  failed: number
  deadLettered: number
  lastError?: string | undefined
  lastErrorAt?: string | undefined
  lastDeliveryAt?: string | undefined
}

/** Where subscription definitions and their counters are kept (part of the `StateStore`). */
export interface SubscriptionStore {
  /** Every subscription. */
  list(): Promise<SubscriptionRecord[]>
  /** One subscription, or undefined. */
  get(id: string): Promise<SubscriptionRecord | undefined>
  /** Stores a new one; resolves false when its stream already has its broker group. */
  create(definition: SubscriptionDefinition): Promise<boolean>
  /** Sets the paused flag; resolves false when there is no such subscription. */
  setPaused(id: string, paused: boolean): Promise<boolean>
  /** Removes one; resolves false when there was none. */
  delete(id: string): Promise<boolean>
  /** Adds counts (and the latest error and delivery time) to a subscription's counters. */
  addCounters(id: string, delta: CounterDelta): Promise<void>
}
