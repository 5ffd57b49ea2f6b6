import {
  createInbox,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node'
import {
  ConnectionError,
  type InboundMessage,
  type NackOptions,
  type TransportSubscription,
} from '@switchyard/core/transport'
import type { AttemptMemory } from './attempt-memory.js'
import { type DeliveryInfo, fromNatsHeaders, parseAckSubject } from './mapping.js'

const text = new TextEncoder()
const ACK = text.encode('+ACK')
const NAK = text.encode('-NAK')
const WPI = text.encode('+WPI')

function deliveryId(info: DeliveryInfo): string {
  return `${info.stream}/${info.consumer}/${info.sequence}`
}

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
  attempts: AttemptMemory
  /** Creates the consumer again when the server no longer answers for it. */
  ensureConsumer(): Promise<void>
  onClosed(subscription: PullSubscription): void
}

interface PullRequest {
  batch: number
  /** Last sign of life: its heartbeat, or any delivery. */
  heard: number
}

interface Waiter {
  max: number
  resolve(messages: InboundMessage[]): void
  reject(error: Error): void
}

/**
 * A durable pull consumer read through JetStream pull requests on one inbox. What is requested
 * from the server never exceeds what the bus asked for (`pull(max)`), counting messages already
 * received and requests still open, so a slow handler slows the server's deliveries instead of
 * filling memory. Deliveries carry their own subject, not the request's, so open requests are
 * counted in aggregate: each delivery takes one off, and a request's end (408, 409) reports what
 * it left unfilled. Requests ask for idle heartbeats; silence means the server lost them.
 * Delivered messages are kept alive with in-progress acks until settled; on close they are given
 * back (`-NAK`) so the group gets them at once rather than after the ack wait.
 */
export class PullSubscription implements TransportSubscription {
  private readonly inbox = createInbox()
  private readonly sub: Subscription
  private readonly nextSubject: string
  private readonly buffer: Msg[] = []
  private readonly requests = new Map<number, PullRequest>()
  private readonly unsettled = new Set<string>()
  private readonly keepAlive: NodeJS.Timeout
  private readonly watchdog: NodeJS.Timeout
  private readonly heartbeatMs: number
  private lastHeard = Date.now()
  private outstanding = 0
  private nextId = 0
  private waiter: Waiter | undefined
  private connected = true
  private paused: NodeJS.Timeout | undefined
  private checking: Promise<void> | undefined
  private delivering = false
  private closed = false

  constructor(private readonly init: PullInit) {
    this.nextSubject = `${init.apiPrefix}.CONSUMER.MSG.NEXT.${init.stream}.${init.consumer}`
    this.sub = init.nc.subscribe(`${this.inbox}.*`, {
      callback: (error, msg) => this.onMessage(error, msg),
    })
    this.keepAlive = setInterval(() => this.touch(), Math.max(50, Math.floor(init.ackWaitMs / 3)))
    this.keepAlive.unref()
    this.heartbeatMs = Math.min(5_000, Math.max(100, Math.floor(init.expiresMs / 5)))
    this.watchdog = setInterval(() => this.watch(), this.heartbeatMs)
    this.watchdog.unref()
  }

  /** Resolves with 1..max messages once any are there, or [] when closed or aborted. */
  pull(max: number, signal: AbortSignal): Promise<InboundMessage[]> {
    if (this.closed || signal.aborted) return Promise.resolve([])
    if (this.buffer.length > 0) return Promise.resolve(this.take(max))
    this.waiter?.resolve([])
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        if (this.waiter !== waiter) return
        this.waiter = undefined
        resolve([])
      }
      const waiter: Waiter = {
        max,
        resolve: (messages) => {
          signal.removeEventListener('abort', onAbort)
          resolve(messages)
        },
        reject: (error) => {
          signal.removeEventListener('abort', onAbort)
          reject(error)
        },
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.waiter = waiter
      this.request()
    })
  }

  /** Stops pulling, gives back every unsettled message, and drains the inbox. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.keepAlive)
    clearInterval(this.watchdog)
    clearTimeout(this.paused)
    this.requests.clear()
    this.outstanding = 0
    const waiter = this.waiter
    this.waiter = undefined
    waiter?.resolve([])
    // Never handed to the bus, so not an attempt: the redelivery keeps this delivery's number.
    for (const msg of this.buffer) {
      const info = parseAckSubject(msg.reply)
      if (info !== undefined) this.init.attempts.remember(deliveryId(info), info.delivered, 60_000)
    }
    const replies = [...this.buffer.splice(0).map((m) => m.reply!), ...this.unsettled]
    this.unsettled.clear()
    this.send(replies, NAK)
    // Draining lets messages already on the wire arrive; `onMessage` gives them back too.
    await this.sub.drain().catch(() => undefined)
    this.init.onClosed(this)
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

  private onMessage(error: Error | null, msg: Msg): void {
    if (error !== null) return
    const now = Date.now()
    this.lastHeard = now
    if (msg.reply?.startsWith('$JS.ACK.')) {
      this.outstanding = Math.max(0, this.outstanding - 1)
      if (this.outstanding === 0) this.requests.clear()
      else for (const request of this.requests.values()) request.heard = now
      if (this.closed) {
        this.send([msg.reply], NAK)
        return
      }
      this.buffer.push(msg)
      if (!this.delivering) {
        // Let the rest of the same socket read arrive first, then hand over one batch.
        this.delivering = true
        queueMicrotask(() => {
          this.delivering = false
          this.deliver()
        })
      }
      return
    }
    const request = this.requests.get(Number(msg.subject.slice(this.inbox.length + 1)))
    const code = msg.headers?.code ?? 0
    if (code === 100) {
      if (request !== undefined) request.heard = now
      return
    }
    if (request !== undefined) {
      this.requests.delete(Number(msg.subject.slice(this.inbox.length + 1)))
      const left = Number(msg.headers?.get('Nats-Pending-Messages') || Number.NaN)
      this.outstanding = Math.max(
        0,
        this.outstanding - (Number.isFinite(left) ? left : request.batch),
      )
    }
    if (code === 503) this.pause(250)
    else if (code === 409) {
      if (/consumer (deleted|not found)/i.test(msg.headers?.description ?? '')) this.recheck()
      else this.pause(100)
    } else this.request()
  }

  private request(): void {
    const waiter = this.waiter
    if (waiter === undefined || this.closed || !this.connected) return
    if (this.paused !== undefined || this.checking !== undefined) return
    const want = waiter.max - this.outstanding - this.buffer.length
    if (want <= 0) return
    const id = ++this.nextId
    try {
      const body = JSON.stringify({
        batch: want,
        expires: this.init.expiresMs * 1_000_000,
        idle_heartbeat: this.heartbeatMs * 1_000_000,
      })
      this.init.nc.publish(this.nextSubject, body, { reply: `${this.inbox}.${id}` })
    } catch (error) {
      this.waiter = undefined
      waiter.reject(
        new ConnectionError(`Cannot pull from "${this.init.topic}": ${(error as Error).message}`, {
          cause: error,
        }),
      )
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

  private pause(ms: number): void {
    if (this.paused !== undefined) return
    this.paused = setTimeout(() => {
      this.paused = undefined
      this.request()
    }, ms)
  }

  private recheck(): void {
    this.checking ??= this.init
      .ensureConsumer()
      .catch(() => new Promise<void>((resolve) => setTimeout(resolve, 1_000)))
      .finally(() => {
        this.checking = undefined
        this.request()
      })
  }

  private deliver(): void {
    const waiter = this.waiter
    if (waiter === undefined || this.buffer.length === 0) return
    this.waiter = undefined
    waiter.resolve(this.take(waiter.max))
  }

  private take(max: number): InboundMessage[] {
    return this.buffer.splice(0, max).map((msg) => this.inbound(msg))
  }

  private inbound(msg: Msg): InboundMessage {
    const reply = msg.reply!
    const info = parseAckSubject(reply)
    const { headers, key } = fromNatsHeaders(msg.headers)
    const id = info === undefined ? reply : deliveryId(info)
    const remembered = this.init.attempts.take(id)
    this.unsettled.add(reply)
    return {
      topic: this.init.topic,
      headers,
      body: msg.data,
      key,
      attempt: remembered ?? info?.delivered ?? 1,
      position: `${info?.stream}:${info?.sequence}`,
      ack: () => this.settle(reply, ACK),
      nack: (options: NackOptions) => {
        if (!this.unsettled.has(reply)) return
        this.init.attempts.remember(
          id,
          options.attempt + 1,
          options.delayMs + 2 * this.init.ackWaitMs,
        )
        const delayNs = Math.max(0, Math.round(options.delayMs)) * 1_000_000
        this.settle(reply, delayNs > 0 ? text.encode(`-NAK {"delay":${delayNs}}`) : NAK)
      },
    }
  }

  private settle(reply: string, payload: Uint8Array): void {
    // After close, what is still unsettled was given back already: a late ack must not settle
    // a delivery the group may be handling elsewhere by now.
    if (!this.unsettled.delete(reply)) return
    this.init.nc.publish(reply, payload)
  }

  private touch(): void {
    if (this.closed || !this.connected) return
    this.send([...this.unsettled, ...this.buffer.map((m) => m.reply!)], WPI)
  }

  private send(replies: readonly string[], payload: Uint8Array): void {
    try {
      for (const reply of replies) this.init.nc.publish(reply, payload)
    } catch {
      // Connection closed: the server redelivers after the ack wait instead.
    }
  }
}
