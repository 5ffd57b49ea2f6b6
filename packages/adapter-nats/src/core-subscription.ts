import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node'
import { Deque, type InboundMessage, type TransportSubscription } from '@switchyard/core/transport'
import { DIRECT_HEADER, fromNatsHeaders } from './mapping.js'

const EMPTY = new Uint8Array(0)

/**
 * An ephemeral subscription (the bus's request/reply inbox) as a plain NATS subscription: no
 * stream, no consumer, nothing left on the server after close. Replies are wanted only while
 * someone waits, so they are neither stored nor acknowledged; a message sent with
 * `Publisher.direct` is answered, so its sender knows it arrived. Core never nacks an ephemeral
 * message with a delay: a nack offers it again at once, with the next attempt number.
 */
export class CoreSubscription implements TransportSubscription {
  private readonly sub: Subscription
  private readonly buffer = new Deque<InboundMessage>()
  private waiter: { max: number; deliver(messages: InboundMessage[]): void } | undefined
  private closed = false

  constructor(
    nc: NatsConnection,
    private readonly topic: string,
    private readonly onClosed: (subscription: CoreSubscription) => void,
  ) {
    this.sub = nc.subscribe(topic, {
      callback: (error, msg) => {
        if (error !== null) return
        if (msg.reply !== undefined && msg.headers?.has(DIRECT_HEADER)) msg.respond(EMPTY)
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
    const waiter = {
      max,
      deliver: (messages: InboundMessage[]) => {
        signal.removeEventListener('abort', onAbort)
        deliver(messages)
      },
    }
    const onAbort = () => {
      if (this.waiter !== waiter) return
      this.waiter = undefined
      deliver([])
    }
    signal.addEventListener('abort', onAbort, { once: true })
    this.waiter = waiter
  }

  /** Unsubscribes; what was not handled is dropped, as a reply nobody reads would be. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.buffer.take(this.buffer.length)
    this.answer([])
    await this.sub.drain().catch(() => undefined)
    this.onClosed(this)
  }

  private add(message: InboundMessage): void {
    if (this.closed) return
    this.buffer.push(message)
    if (this.waiter !== undefined) this.answer(this.buffer.take(this.waiter.max))
  }

  private answer(messages: InboundMessage[]): void {
    const waiter = this.waiter
    this.waiter = undefined
    waiter?.deliver(messages)
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
