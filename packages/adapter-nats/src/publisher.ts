import type { JetStreamClient } from '@nats-io/jetstream'
import type { OutboundMessage } from '@switchyard/core/transport'
import { classify, publishError } from './errors.js'
import { messageId, toNatsHeaders } from './mapping.js'

/** What the publisher needs from the transport. */
export interface PublisherInit {
  js: JetStreamClient
  /** Publishes awaiting their ack at once. */
  window: number
  /** How long one message keeps being retried. */
  timeoutMs: number
  /** How long one attempt waits for its ack. */
  ackTimeoutMs: number
  /** Makes sure a stream stores the subject again, after nothing answered on it. */
  restoreStream(subject: string): Promise<void>
}

/**
 * Publishes through a bounded window of JetStream publishes awaiting their acks, so many
 * concurrent `publish` calls overlap instead of queueing behind one round trip each. Slots are
 * granted first come, first served, so a batch leaves in order. A message whose ack does not come
 * is sent again with the same `Nats-Msg-Id`, which the server de-duplicates.
 */
export class Publisher {
  private inFlight = 0
  private readonly queue: Array<() => void> = []

  constructor(private readonly init: PublisherInit) {}

  /** Publishes every message to the subject; resolves once all are acknowledged. */
  async publish(
    topic: string,
    subject: string,
    messages: readonly OutboundMessage[],
  ): Promise<void> {
    if (messages.length === 1) return this.one(topic, subject, messages[0]!)
    const results = await Promise.allSettled(messages.map((m) => this.one(topic, subject, m)))
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed !== undefined) throw failed.reason
  }

  /** Resolves when nothing is in flight. */
  async idle(): Promise<void> {
    while (this.inFlight > 0 || this.queue.length > 0) {
      await new Promise<void>((resolve) => setTimeout(resolve, 5))
    }
  }

  private async one(topic: string, subject: string, message: OutboundMessage): Promise<void> {
    if (this.inFlight >= this.init.window) {
      await new Promise<void>((resolve) => this.queue.push(resolve))
    } else {
      this.inFlight++
    }
    try {
      await this.send(topic, subject, message)
    } finally {
      const next = this.queue.shift()
      // Hand the slot straight to the next waiter, so a newcomer cannot jump the queue.
      if (next !== undefined) next()
      else this.inFlight--
    }
  }

  private async send(topic: string, subject: string, message: OutboundMessage): Promise<void> {
    const started = Date.now()
    const headers = toNatsHeaders(message.headers, message.key)
    const msgID = messageId(message.id, message.headers)
    for (let attempt = 1; ; attempt++) {
      try {
        await this.init.js.publish(subject, message.body, {
          msgID,
          headers,
          timeout: this.init.ackTimeoutMs,
        })
        return
      } catch (error) {
        const kind = classify(error)
        const waited = Date.now() - started
        const pause = Math.min(1_000, 50 * 2 ** Math.min(attempt - 1, 5))
        if (kind === 'fatal' || waited + pause > this.init.timeoutMs) {
          throw publishError(topic, error, waited)
        }
        await new Promise((resolve) => setTimeout(resolve, pause))
        if (kind === 'no-stream') await this.init.restoreStream(subject).catch(() => undefined)
      }
    }
  }
}
