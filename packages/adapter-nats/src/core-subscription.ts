import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node'
import type { InboundMessage, TransportSubscription } from '@switchyard/core/transport'
import { fromNatsHeaders } from './mapping.js'

interface Held {
  msg: Msg
  attempt: number
}

/**
 * A plain NATS (no JetStream) queue subscription, for the bus's request/reply inboxes: replies
 * are wanted only while someone waits, so they are neither stored nor acknowledged. A `nack`
 * retries in this process after the delay.
 */
export class CoreSubscription implements TransportSubscription {
  private readonly sub: Subscription
  private readonly buffer: Held[] = []
  private readonly timers = new Set<NodeJS.Timeout>()
  private waiter: { max: number; resolve(messages: InboundMessage[]): void } | undefined
  private closed = false

  constructor(
    nc: NatsConnection,
    subject: string,
    group: string,
    private readonly topic: string,
    private readonly onClosed: (subscription: CoreSubscription) => void,
  ) {
    this.sub = nc.subscribe(subject, {
      queue: group,
      callback: (error, msg) => {
        if (error === null) this.add({ msg, attempt: 1 })
      },
    })
  }

  /** Resolves with 1..max messages once any are there, or [] when closed or aborted. */
  pull(max: number, signal: AbortSignal): Promise<InboundMessage[]> {
    if (this.closed || signal.aborted) return Promise.resolve([])
    if (this.buffer.length > 0) return Promise.resolve(this.take(max))
    return new Promise((resolve) => {
      const onAbort = () => {
        if (this.waiter?.resolve !== done) return
        this.waiter = undefined
        resolve([])
      }
      const done = (messages: InboundMessage[]) => {
        signal.removeEventListener('abort', onAbort)
        resolve(messages)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.waiter = { max, resolve: done }
    })
  }

  /** Unsubscribes; what was not handled is dropped, as a reply nobody reads would be. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const timer of this.timers) clearTimeout(timer)
    this.buffer.length = 0
    this.waiter?.resolve([])
    this.waiter = undefined
    await this.sub.drain().catch(() => undefined)
    this.onClosed(this)
  }

  private add(held: Held): void {
    if (this.closed) return
    this.buffer.push(held)
    const waiter = this.waiter
    if (waiter === undefined) return
    this.waiter = undefined
    waiter.resolve(this.take(waiter.max))
  }

  private take(max: number): InboundMessage[] {
    return this.buffer.splice(0, max).map(({ msg, attempt }) => {
      const { headers, key } = fromNatsHeaders(msg.headers)
      return {
        topic: this.topic,
        headers,
        body: msg.data,
        key,
        attempt,
        ack: () => undefined,
        nack: ({ delayMs, attempt: done }) => {
          const timer = setTimeout(() => {
            this.timers.delete(timer)
            this.add({ msg, attempt: done + 1 })
          }, delayMs)
          this.timers.add(timer)
        },
      }
    })
  }
}
