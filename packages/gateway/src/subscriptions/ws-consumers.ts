import { randomUUID } from 'node:crypto'
import type { EventEnvelope } from '@switchyard/core'
import type { LiveClient } from '../ws/client.js'

/** How a delivery to one client ended. */
type Answer =
  | { kind: 'ack' }
  | { kind: 'nack'; reason: string }
  | { kind: 'gone' }
  | { kind: 'timeout' }
  | { kind: 'closing' }

/** A failed WebSocket delivery, in words, or undefined when a client acknowledged it. */
export type WsDeliveryResult = { ok: true } | { ok: false; detail: string; closing: boolean }

/** One connected client of a subscription and its unacknowledged deliveries. */
export class WsConsumer {
  readonly pending = new Map<string, (answer: Answer) => void>()
  /** Set when a delivery timed out; cleared by its next acknowledgement. */
  stalled = false

  constructor(
    readonly client: LiveClient,
    readonly maxInFlight: number,
  ) {}

  /** True when it may take one more event. */
  get ready(): boolean {
    return !this.client.closed && !this.stalled && this.pending.size < this.maxInFlight
  }
}

/** An event as JSON: binary data as `data_base64`, as in the CloudEvents JSON format. */
function jsonEvent(event: EventEnvelope): unknown {
  if (!(event.data instanceof Uint8Array)) return event
  const { data, ...rest } = event
  return { ...rest, data_base64: Buffer.from(data).toString('base64') }
}

/**
 * The clients of one subscription connected to this gateway process. A delivery goes to the
 * ready client with the fewest unacknowledged events and waits for its `ack`; a client that
 * leaves hands its deliveries to another at once, one that lets `ackTimeoutMs` pass is marked
 * stalled (no more events until it acknowledges one) and the attempt fails, so the bus's retry
 * policy redelivers the event, to another client.
 */
export class WsConsumers {
  readonly consumers = new Set<WsConsumer>()
  private readonly roomWaiters = new Set<() => void>()

  constructor(private readonly ackTimeoutMs: () => number) {}

  /** Adds a client; returns it for `answer` and `remove`. */
  add(client: LiveClient, maxInFlight: number): WsConsumer {
    const consumer = new WsConsumer(client, maxInFlight)
    this.consumers.add(consumer)
    this.wake()
    return consumer
  }

  /** Removes a client: its unacknowledged deliveries go to another client. */
  remove(consumer: WsConsumer): void {
    this.consumers.delete(consumer)
    for (const settle of consumer.pending.values()) settle({ kind: 'gone' })
    consumer.pending.clear()
  }

  /** Applies an `ack` or `nack` frame; false when the delivery id is not pending here. */
  answer(consumer: WsConsumer, deliveryId: string, nack?: string): boolean {
    const settle = consumer.pending.get(deliveryId)
    if (settle === undefined) return false
    settle(nack === undefined ? { kind: 'ack' } : { kind: 'nack', reason: nack })
    return true
  }

  private pick(): WsConsumer | undefined {
    let best: WsConsumer | undefined
    for (const consumer of this.consumers) {
      if (!consumer.ready) continue
      if (best === undefined || consumer.pending.size < best.pending.size) best = consumer
    }
    return best
  }

  private wake(): void {
    for (const waiter of this.roomWaiters) waiter()
    this.roomWaiters.clear()
  }

  private waitForRoom(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        this.roomWaiters.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal.addEventListener('abort', done, { once: true })
      this.roomWaiters.add(done)
    })
  }

  private sendTo(
    consumer: WsConsumer,
    subscriptionId: string,
    event: EventEnvelope,
    attempt: number,
    signal: AbortSignal,
  ): Promise<Answer> {
    const deliveryId = randomUUID()
    return new Promise<Answer>((resolve) => {
      const settle = (answer: Answer) => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        consumer.pending.delete(deliveryId)
        if (answer.kind === 'ack') consumer.stalled = false
        // Room freed: a delivery waiting for a client may go now.
        this.wake()
        resolve(answer)
      }
      const onAbort = () => settle({ kind: 'closing' })
      const timer = setTimeout(() => settle({ kind: 'timeout' }), this.ackTimeoutMs())
      signal.addEventListener('abort', onAbort, { once: true })
      consumer.pending.set(deliveryId, settle)
      const frame = JSON.stringify({
        type: 'event',
        subscription_id: subscriptionId,
        delivery_id: deliveryId,
        attempt,
        event: jsonEvent(event),
      })
      if (!consumer.client.send(frame)) settle({ kind: 'gone' })
    })
  }

  /** Delivers one event to one of the clients and waits for its acknowledgement. */
  async deliver(
    subscriptionId: string,
    event: EventEnvelope,
    attempt: number,
    signal: AbortSignal,
  ): Promise<WsDeliveryResult> {
    const timeoutMs = this.ackTimeoutMs()
    const deadline = Date.now() + timeoutMs
    for (;;) {
      if (signal.aborted) {
        return { ok: false, detail: 'the subscription closed on this gateway', closing: true }
      }
      const consumer = this.pick()
      if (consumer === undefined) {
        const left = deadline - Date.now()
        if (left <= 0) {
          const detail = `no WebSocket client of the subscription took the event within ${timeoutMs} ms`
          return { ok: false, detail, closing: false }
        }
        await this.waitForRoom(left, signal)
        continue
      }
      const answer = await this.sendTo(consumer, subscriptionId, event, attempt, signal)
      switch (answer.kind) {
        case 'ack':
          return { ok: true }
        case 'gone':
          continue
        case 'closing':
          return { ok: false, detail: 'the subscription closed on this gateway', closing: true }
        case 'nack':
          return {
            ok: false,
            detail: `a WebSocket client refused it: ${answer.reason}`,
            closing: false,
          }
        case 'timeout':
          consumer.stalled = true
          return {
            ok: false,
            detail: `a WebSocket client did not acknowledge it within ${timeoutMs} ms`,
            closing: false,
          }
      }
    }
  }
}
