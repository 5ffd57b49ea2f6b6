import {
  type InboundMessage,
  type OutboundMessage,
  PublishError,
  startAtTime,
  type Transport,
  type TransportFeatures,
  type TransportHealth,
  type TransportSubscribeOptions,
  type TransportSubscription,
} from '@switchyard/core/transport'
import { type DeliveryControl, MemoryBroker } from './broker.js'
import { MemoryFaults } from './faults.js'
import {
  type MemoryTransportOptions,
  type ResolvedMemoryOptions,
  resolveOptions,
} from './options.js'

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
  private readonly options: ResolvedMemoryOptions
  private readonly subscriptions = new Set<TransportSubscription>()
  private readonly control: DeliveryControl
  private closed = false

  constructor(options: MemoryTransportOptions = {}) {
    this.options = resolveOptions(options)
    this.broker = options.broker ?? new MemoryBroker()
    this.features = { ...FEATURES, passByReference: this.options.passByReference }
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
    this.faults.beforePublish(topicName)
    const topic = this.broker.topic(topicName)
    const { maxQueueSize, publishTimeoutMs, historySize } = this.options
    if (this.broker.fullest(topic) + messages.length > maxQueueSize) {
      const deadline = Date.now() + publishTimeoutMs
      while (this.broker.fullest(topic) + Math.min(messages.length, maxQueueSize) > maxQueueSize) {
        const left = deadline - Date.now()
        if (left <= 0) {
          throw new PublishError(
            `Topic "${topicName}" has a group ${maxQueueSize} events behind (maxQueueSize); gave up after ${publishTimeoutMs} ms`,
            { topic: topicName },
          )
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, 50))
          topic.spaceWaiters.push(() => {
            clearTimeout(timer)
            resolve()
          })
        })
      }
    }
    this.broker.append(topic, messages, historySize)
  }

  /** Joins (or creates) the group and returns a pull subscription. */
  async subscribe(
    topicName: string,
    options: TransportSubscribeOptions,
  ): Promise<TransportSubscription> {
    this.faults.checkConnected()
    const topic = this.broker.topic(topicName)
    const member = this.broker.join(
      topic,
      options.group,
      options.startAt,
      startAtTime(options.startAt),
    )
    const subscription: TransportSubscription = {
      pull: (max, signal, deliver, fail) => {
        if (this.faults.disconnected) {
          this.faults
            .whenConnected(signal)
            .then(() => subscription.pull(max, signal, deliver, fail), fail)
          return
        }
        this.broker.pull(member, max, signal, this.control).then(deliver, fail)
      },
      close: async () => {
        this.subscriptions.delete(subscription)
        this.broker.leave(member)
      },
    }
    this.subscriptions.add(subscription)
    return subscription
  }

  /** Reads up to `limit` retained messages from the start of the topic without consuming them. */
  async browse(topicName: string, options: { limit: number }): Promise<InboundMessage[]> {
    return this.broker.browse(this.broker.topic(topicName), options.limit)
  }

  /** `up` unless closed or disconnected by fault injection. */
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
