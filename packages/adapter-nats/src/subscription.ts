import type { Msg, NatsConnection } from '@nats-io/transport-node'
import {
  ConnectionError,
  Deque,
  type InboundMessage,
  type NackOptions,
  type TransportSubscription,
} from '@switchyard/core/transport'
import type { AttemptMemory } from './attempt-memory.js'
import { deliveryId, type InboxRouter, type InboxTarget } from './inbox-router.js'
import { type DeliveryInfo, fromNatsHeaders } from './mapping.js'

const text = new TextEncoder()
const ACK = text.encode('+ACK')
const NAK = text.encode('-NAK')
const WPI = text.encode('+WPI')

/** What a pull subscription needs from the transport. */
export interface PullInit {
  nc: NatsConnection
  apiPrefix: string
  stream: string
  consumer: string
  topic: string
  /** How long one pull request waits at the server. */
  expiresMs: number
  /** The consumer's ack wait: in-progress acks go out three times per period. */
  ackWaitMs: number
  /** The consumer's `max_deliver`; -1 for none. */
  maxDeliver: number
  attempts: AttemptMemory
  /** The transport's inbox, which routes deliveries and status messages here. */
  router: InboxRouter
  /** Creates the consumer again when the server no longer answers for it. */
  ensureConsumer(): Promise<void>
  onClosed(subscription: PullSubscription): void
}

interface Delivery {
  msg: Msg
  info: DeliveryInfo
}

interface Waiter {
  max: number
  deliver(messages: InboundMessage[]): void
  fail(error: unknown): void
}

/**
 * A durable pull consumer read through JetStream pull requests. What is requested from the
 * server never exceeds what the bus asked for (`pull(max)`), counting messages already received
 * and requests still open, so a slow handler slows the server's deliveries instead of filling
 * memory. Deliveries carry the stream's subject, not the request's, so open requests are counted
 * in aggregate: each delivery takes one off, and a request's end (408, 409) reports what it left
 * unfilled. Requests ask for idle heartbeats; silence means the server lost them. Delivered
 * messages are kept alive with in-progress acks until settled; on close they are given back
 * (`-NAK`) so the group gets them at once rather than after the ack wait.
 */
export class PullSubscription implements TransportSubscription, InboxTarget {
  /** @internal Messages asked for and not yet delivered, over all open requests. */
  outstanding = 0
  private readonly replyPrefix: string
  private readonly nextSubject: string
  private readonly buffer = new Deque<Delivery>()
  /** Open requests: id to batch size and last sign of life (heartbeat or delivery). */
  private readonly requests = new Map<number, { batch: number; heard: number }>()
  private readonly unsettled = new Set<string>()
  private readonly keepAlive: NodeJS.Timeout
  private readonly watchdog: NodeJS.Timeout
  private readonly heartbeatMs: number
  private lastHeard = Date.now()
  private nextId = 0
  private waiter: Waiter | undefined
  private connected = true
  private checking: Promise<void> | undefined
  private delivering = false
  private closed = false

  constructor(private readonly init: PullInit) {
    this.nextSubject = `${init.apiPrefix}.CONSUMER.MSG.NEXT.${init.stream}.${init.consumer}`
    this.replyPrefix = init.router.add(this, init.stream, init.consumer)
    this.keepAlive = setInterval(() => this.touch(), Math.max(50, Math.floor(init.ackWaitMs / 3)))
    this.keepAlive.unref()
    this.heartbeatMs = Math.min(5_000, Math.max(100, Math.floor(init.expiresMs / 5)))
    this.watchdog = setInterval(() => this.watch(), this.heartbeatMs)
    this.watchdog.unref()
  }

  /** Delivers 1..max messages once any are there, [] when closed or aborted. */
  pull(
    max: number,
    signal: AbortSignal,
    deliver: (messages: InboundMessage[]) => void,
    fail: (error: unknown) => void,
  ): void {
    if (this.closed || signal.aborted || this.buffer.length > 0) {
      const batch = signal.aborted ? [] : this.take(max)
      // Top up now, while the rest is handled: waiting until the buffer runs dry would leave
      // the server without a request for a round trip.
      if (batch.length > 0) this.request(max - batch.length)
      deliver(batch)
      return
    }
    const onAbort = () => {
      if (this.waiter === waiter) this.answer()?.deliver([])
    }
    const waiter: Waiter = {
      max,
      deliver: (messages) => {
        signal.removeEventListener('abort', onAbort)
        deliver(messages)
      },
      fail: (error) => {
        signal.removeEventListener('abort', onAbort)
        fail(error)
      },
    }
    signal.addEventListener('abort', onAbort, { once: true })
    this.waiter = waiter
    this.request()
  }

  /** Stops pulling and gives back every unsettled message. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closed = true
    clearInterval(this.keepAlive)
    clearInterval(this.watchdog)
    this.disconnected()
    this.answer()?.deliver([])
    // From now on the transport's inbox hands late deliveries to another subscription of the
    // consumer, or gives them back.
    this.init.router.remove(this)
    const held = this.buffer.take(this.buffer.length)
    // Never handed to the bus, so not an attempt: the redelivery keeps its number.
    for (const { info } of held)
      this.init.attempts.returned(deliveryId(info), info.delivered, 60_000)
    this.send([...held.map((d) => d.msg.reply!), ...this.unsettled], NAK)
    this.unsettled.clear()
    this.init.onClosed(this)
    return Promise.resolve()
  }

  /** @internal The connection dropped: open requests died with it. */
  disconnected(): void {
    this.connected = false
    this.requests.clear()
    this.outstanding = 0
  }

  /** @internal The connection is back: ask again. */
  reconnected(): void {
    this.connected = true
    this.request()
  }

  /** @internal A delivery for this consumer, routed by the transport's inbox. */
  onData(msg: Msg, info: DeliveryInfo): void {
    const now = Date.now()
    this.lastHeard = now
    this.outstanding = Math.max(0, this.outstanding - 1)
    if (this.outstanding === 0) this.requests.clear()
    else for (const request of this.requests.values()) request.heard = now
    this.buffer.push({ msg, info })
    if (!this.delivering) {
      // Let the rest of the same socket read arrive first, then hand over one batch.
      this.delivering = true
      queueMicrotask(() => {
        this.delivering = false
        this.deliver()
      })
    }
  }

  /** @internal A heartbeat or the end of request `id` (408 expired, 409, 503 no responders). */
  onStatus(id: number, msg: Msg): void {
    const now = Date.now()
    this.lastHeard = now
    const request = this.requests.get(id)
    const code = msg.headers?.code ?? 0
    if (code === 100) {
      if (request !== undefined) request.heard = now
      return
    }
    if (request !== undefined) {
      this.requests.delete(id)
      const left = Number(msg.headers?.get('Nats-Pending-Messages') || Number.NaN)
      this.outstanding = Math.max(
        0,
        this.outstanding - (Number.isFinite(left) ? left : request.batch),
      )
    }
    const description = msg.headers?.description ?? ''
    if (code === 409 && /consumer (deleted|not found)/i.test(description)) this.recheck()
    else if (code === 503 || code === 409) {
      // JetStream restarting, leadership moving, too many waiting requests: the bus asks again
      // a moment later rather than this subscription spinning on requests.
      this.answer()?.fail(
        new ConnectionError(`Pull from "${this.init.topic}" refused: ${code} ${description}`),
      )
    } else this.request()
  }

  /** Asks the server for what `limit` (the bus's free room, by default the pull's) leaves. */
  private request(limit = this.waiter?.max ?? 0): void {
    if (limit <= 0 || this.closed || !this.connected || this.checking !== undefined) return
    const want = limit - this.outstanding - this.buffer.length
    // While requests are open, top up only by half the room or more (as nats.js's consume
    // does): one request per delivered message would double the server's work.
    if (want <= 0 || (this.outstanding > 0 && want < Math.ceil(limit / 2))) return
    const id = ++this.nextId
    try {
      const body = JSON.stringify({
        batch: want,
        expires: this.init.expiresMs * 1_000_000,
        idle_heartbeat: this.heartbeatMs * 1_000_000,
      })
      this.init.nc.publish(this.nextSubject, body, { reply: `${this.replyPrefix}.${id}` })
    } catch (error) {
      const message = `Cannot pull from "${this.init.topic}": ${(error as Error).message}`
      this.answer()?.fail(new ConnectionError(message, { cause: error }))
      return
    }
    if (this.requests.size === 0) this.lastHeard = Date.now()
    this.requests.set(id, { batch: want, heard: Date.now() })
    this.outstanding += want
  }

  /**
   * A request that went quiet (no heartbeat, no delivery) for three heartbeats was filled or
   * lost; when every open request went quiet the server lost them (or the consumer): ask again.
   */
  private watch(): void {
    if (this.closed || !this.connected || this.requests.size === 0) return
    const now = Date.now()
    const limit = this.heartbeatMs * 3
    if (now - this.lastHeard > limit) {
      this.requests.clear()
      this.outstanding = 0
      this.recheck()
      return
    }
    for (const [id, request] of this.requests) {
      if (now - request.heard > limit) this.requests.delete(id)
    }
    if (this.requests.size === 0) {
      this.outstanding = 0
      this.request()
    }
  }

  private recheck(): void {
    this.checking ??= this.init
      .ensureConsumer()
      .then(
        () => undefined,
        (error: unknown) => this.answer()?.fail(error),
      )
      .finally(() => {
        this.checking = undefined
        this.request()
      })
  }

  /** Takes the open pull request, if any, to answer it. */
  private answer(): Waiter | undefined {
    const waiter = this.waiter
    this.waiter = undefined
    return waiter
  }

  private deliver(): void {
    if (this.waiter === undefined || this.buffer.length === 0) return
    const waiter = this.answer()!
    waiter.deliver(this.take(waiter.max))
  }

  private take(max: number): InboundMessage[] {
    return this.buffer.take(max).map((d) => this.inbound(d))
  }

  private inbound(delivery: Delivery): InboundMessage {
    const { msg, info } = delivery
    const reply = msg.reply!
    const { headers, key } = fromNatsHeaders(msg.headers)
    const { attempts } = this.init
    // The memory is empty unless something was given back: skip building its key per message.
    const remembered = attempts.size === 0 ? undefined : attempts.take(deliveryId(info))
    this.unsettled.add(reply)
    return {
      topic: this.init.topic,
      headers,
      body: msg.data,
      key,
      attempt: remembered ?? info.delivered,
      position: `${info.stream}:${info.sequence}`,
      timestamp: info.storedAt,
      ack: () => this.settle(reply, ACK),
      nack: (options: NackOptions) => {
        if (!this.unsettled.has(reply)) return
        attempts.remember(
          deliveryId(info),
          options.attempt + 1,
          options.delayMs + 2 * this.init.ackWaitMs,
        )
        const { maxDeliver } = this.init
        if (maxDeliver > 0 && info.delivered >= maxDeliver) {
          // The server will not deliver it again, but the bus wants another attempt: offer it
          // again here at once (the delay is not kept), so the bus's budget still decides.
          this.unsettled.delete(reply)
          this.buffer.push(delivery)
          this.deliver()
          return
        }
        const delayNs = Math.max(0, Math.round(options.delayMs)) * 1_000_000
        this.settle(reply, delayNs > 0 ? text.encode(`-NAK {"delay":${delayNs}}`) : NAK)
      },
    }
  }

  private settle(reply: string, payload: Uint8Array): void {
    // After close, what is still unsettled was given back already: a late ack must not settle
    // a delivery the group may be handling elsewhere by now.
    if (this.unsettled.delete(reply)) this.send([reply], payload)
  }

  private touch(): void {
    if (this.closed || !this.connected) return
    this.send([...this.unsettled, ...this.buffer.toArray().map((d) => d.msg.reply!)], WPI)
  }

  private send(replies: readonly string[], payload: Uint8Array): void {
    try {
      for (const reply of replies) this.init.nc.publish(reply, payload)
    } catch {
      // Connection closed: the server redelivers after the ack wait instead.
    }
  }
}
