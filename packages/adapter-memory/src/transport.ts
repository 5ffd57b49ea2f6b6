import {
  type InboundMessage,
  type OutboundMessage,
  type StartAt,
  type SubscribeDefaults,
  startAtTime,
  type Transport,
  type TransportFeatures,
  type TransportHealth,
  type TransportSubscribeOptions,
  type TransportSubscription,
  type TransportTopicInspection,
} from '@switchyard/core/transport'
import { type DeliveryControl, MemoryBroker } from './broker.js'
import { closedError } from './errors.js'
import { MemoryFaults } from './faults.js'
import {
  type MemoryTransportOptions,
  type ResolvedMemoryOptions,
  resolveOptions,
} from './options.js'
import { MemoryPublisher } from './publisher.js'
import { MemorySubscription } from './subscription.js'

const FEATURES: TransportFeatures = {
  consumerGroups: true,
  orderedPerKey: true,
  persistent: true,
  replayFromStart: true,
  // Core waits out retry delays in process; the broker redelivers a nacked message at once.
  nativeDelay: false,
}

/**
 * The in-memory transport: a broker inside the process with the same semantics as the real
 * adapters (groups, at-least-once, redelivery, history, backpressure), plus fault injection.
 */
export class MemoryTransport implements Transport {
  /** Always `memory`. */
  readonly name = 'memory'
  /** Capability flags; `passByReference` follows the option. */
  readonly features: TransportFeatures
  /** The broker this transport talks to; share it to connect several buses. */
  readonly broker: MemoryBroker
  /** Fault injection: failing publishes, disconnects, slow acks. */
  readonly faults = new MemoryFaults()
  /** Subscription defaults from `fromEnv()`, applied by the bus under each `subscribe`. */
  readonly subscribeDefaults: SubscribeDefaults | undefined
  private readonly options: ResolvedMemoryOptions
  private readonly publisher: MemoryPublisher
  private readonly subscriptions = new Set<TransportSubscription>()
  private readonly control: DeliveryControl
  private closed = false

  constructor(options: MemoryTransportOptions = {}) {
    this.options = resolveOptions(options)
    this.broker = options.broker ?? new MemoryBroker()
    this.features = { ...FEATURES, passByReference: this.options.passByReference }
    this.subscribeDefaults = options.subscribeDefaults
    this.publisher = new MemoryPublisher(this.broker, this.options)
    this.control = {
      ackDelayMs: () => this.faults.ackDelayMs,
      checkConnected: () => this.faults.checkConnected(),
    }
  }

  /** The in-memory transport needs no connection; resolves at once. */
  async connect(): Promise<void> {
    this.closed = false
  }

  /** Appends messages to the topic, waiting for room while a group is `maxQueueSize` behind. */
  async publish(topicName: string, messages: readonly OutboundMessage[]): Promise<void> {
    if (this.closed) throw closedError()
    this.faults.beforePublish(topicName)
    await this.publisher.publish(topicName, messages)
  }

  /** Joins (or creates) the group and returns a pull subscription. */
  async subscribe(
    topicName: string,
    options: TransportSubscribeOptions,
  ): Promise<TransportSubscription> {
    if (this.closed) throw closedError()
    this.faults.checkConnected()
    const topic = this.broker.topic(topicName)
    const { group, startAt } = options
    const member = this.broker.join(topic, group, startAt, startAtTime(startAt), this.control)
    const subscription = new MemorySubscription(this.broker, member, this.faults, (s) =>
      this.subscriptions.delete(s),
    )
    this.subscriptions.add(subscription)
    return subscription
  }

  /** Reads up to `limit` retained messages from the start of the topic without consuming them. */
  async browse(topicName: string, options: { limit: number }): Promise<InboundMessage[]> {
    return this.broker.browse(this.broker.topic(topicName), options.limit)
  }

  /** `up` unless closed or disconnected by fault injection. */
  /** Retained events and bytes per topic; per group the queue (lag), in flight and oldest unsettled. */
  async inspect(topics?: readonly string[]): Promise<TransportTopicInspection[]> {
    return this.broker.inspect(topics)
  }

  /** Refills an existing group's queue from the retained history at `position`. */
  async seek(topic: string, group: string, position: StartAt): Promise<void> {
    this.broker.seek(topic, group, position)
  }

  async health(): Promise<TransportHealth> {
    if (this.closed) return { status: 'down', detail: 'transport closed' }
    if (this.faults.disconnected)
      return { status: 'down', detail: 'disconnected (fault injection)' }
    return { status: 'up', detail: 'in-memory broker' }
  }

  /** Detaches every subscription; the broker and its data stay for other transports. */
  async close(): Promise<void> {
    this.closed = true
    await Promise.all([...this.subscriptions].map((s) => s.close()))
  }
}

/**
 * Creates an in-memory transport.
 * @example
 * const bus = createEventBus({ transport: memoryTransport(), source: 'hr-service' })
 */
export function memoryTransport(options: MemoryTransportOptions = {}): MemoryTransport {
  return new MemoryTransport(options)
}

/**
 * Creates a broker to share between transports, so several buses in one process see the same
 * topics and groups.
 * @example
 * const broker = createMemoryBroker()
 * const producer = createEventBus({ transport: memoryTransport({ broker }), source: 'hr' })
 * const consumer = createEventBus({ transport: memoryTransport({ broker }), source: 'mailer' })
 */
export function createMemoryBroker(): MemoryBroker {
  return new MemoryBroker()
}
