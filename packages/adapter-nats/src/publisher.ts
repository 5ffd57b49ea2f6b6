import type { JetStreamClient } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { Deque, type OutboundMessage } from '@switchyard/core/transport'
import { toNatsHeaders } from './mapping.js'

/**
 * Publishes through a bounded window of JetStream publishes awaiting their acks, so many
 * concurrent `publish` calls overlap instead of queueing behind one round trip each. Slots are
 * granted first come, first served, so a batch leaves in order. Each message carries its id as
 * `Nats-Msg-Id`, so when the bus retries a publish the server stores it once. Nothing here
 * retries: a failure goes to the bus, classified by `errors.ts`.
 */
export class Publisher {
  private inFlight = 0
  private readonly queue = new Deque<() => void>()

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly window: number,
    /** How long one publish waits for its ack. */
    private readonly ackTimeoutMs: number,
  ) {}

  /** Stores every message in the subject's stream; resolves once all are acknowledged. */
  async publish(subject: string, messages: readonly OutboundMessage[]): Promise<void> {
    if (messages.length === 1) return this.one(subject, messages[0]!)
    const results = await Promise.allSettled(messages.map((m) => this.one(subject, m)))
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed !== undefined) throw failed.reason
  }

  /**
   * Sends the messages as plain NATS publishes, for a `temporary` topic that a core
   * subscription reads (a request inbox); resolves once the server has them (a flush).
   */
  async direct(subject: string, messages: readonly OutboundMessage[]): Promise<void> {
    for (const m of messages) {
      this.nc.publish(subject, m.body, { headers: toNatsHeaders(m.headers, m.key) })
    }
    await this.nc.flush()
  }

  private async one(subject: string, message: OutboundMessage): Promise<void> {
    if (this.inFlight >= this.window) await new Promise<void>((resolve) => this.queue.push(resolve))
    else this.inFlight++
    try {
      await this.js.publish(subject, message.body, {
        msgID: message.id,
        headers: toNatsHeaders(message.headers, message.key),
        timeout: this.ackTimeoutMs,
      })
    } finally {
      // Hand the slot straight to the next waiter, so a newcomer cannot jump the queue.
      const next = this.queue.shift()
      if (next !== undefined) next()
      else this.inFlight--
    }
  }
}
