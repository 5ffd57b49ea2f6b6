import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node'
import { Deque, type InboundMessage, type TransportSubscription } from '@switchyard/core/transport'
import { fromNatsHeaders } from './mapping.js'
import { PullSlot } from './subscription.js'

/**
 * An ephemeral subscription (the bus's request/reply inbox) as a plain NATS subscription: no
 * stream, no consumer, nothing left on the server after close. Replies are wanted only while
 * someone waits, so they are neither stored nor acknowledged; replies come as plain NATS
 * publishes (`Publisher.direct`, for a `temporary` publish). Core never nacks an ephemeral
 * message with a delay: a nack offers it again at once, with the next attempt number.
 */
export class CoreSubscription implements TransportSubscription {
  private readonly sub: Subscription
  private readonly buffer = new Deque<InboundMessage>()
  private readonly slot = new PullSlot()
  private closed = false

  constructor(
    nc: NatsConnection,
    private readonly topic: string,
    private readonly onClosed: (subscription: CoreSubscription) => void,
  ) {
    this.sub = nc.subscribe(topic, {
      callback: (error, msg) => {
        if (error !== null) return
        this.add(this.inbound(msg, 1))
      },
    })
  }

  /** Delivers 1..max messages once any are there, or [] when closed or aborted. */
  pull(max: number, signal: AbortSignal, deliver: (messages: InboundMessage[]) => void): void {
    if (this.closed || signal.aborted || this.buffer.length > 0) {
      deliver(signal.aborted ? [] : this.buffer.take(max))
      return
    }
    this.slot.open(max, signal, deliver, () => undefined)
  }

  /** Unsubscribes; what was not handled is dropped, as a reply nobody reads would be. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.buffer.take(this.buffer.length)
    this.slot.take()?.deliver([])
    await this.sub.drain().catch(() => undefined)
    this.onClosed(this)
  }

  private add(message: InboundMessage): void {
    if (this.closed) return
    this.buffer.push(message)
    const waiter = this.slot.take()
    waiter?.deliver(this.buffer.take(waiter.max))
  }

  private inbound(msg: Msg, attempt: number): InboundMessage {
    const { headers, key } = fromNatsHeaders(msg.headers)
    return {
      topic: this.topic,
      headers,
      body: msg.data,
      key,
      attempt,
      ack: () => undefined,
      nack: (options) => this.add(this.inbound(msg, options.attempt + 1)),
    }
  }
}
