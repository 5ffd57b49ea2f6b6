import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node'
import {
  ConnectionError,
  Deque,
  type InboundMessage,
  type NackOptions,
  type TransportSubscription,
} from '@switchyard/core/transport'
import { type AttemptMemory, deliveryId } from './attempt-memory.js'
import { Delivered, type DeliveryOwner } from './delivery.js'
import { messagesLost } from './errors.js'
import type { InboxRouter } from './inbox-router.js'
import type { DeliveryInfo } from './mapping.js'
import type { ResolvedNatsOptions } from './options.js'
import type { RetentionWatch } from './retention-watch.js'

const text = new TextEncoder()
const ACK = text.encode('+ACK')
const NAK = text.encode('-NAK')
const WPI = text.encode('+WPI')

/** What a pull subscription needs from the transport. */
export interface PullInit {
  nc: NatsConnection
  options: Pick<ResolvedNatsOptions, 'apiPrefix' | 'pullExpiresMs' | 'ackWaitMs' | 'maxDeliver'>
  stream: string
  consumer: string
  topic: string
  attempts: AttemptMemory
  /** The transport's inbox, which routes deliveries and status messages here. */
  router: InboxRouter
  /** Present when the stream may drop unsettled messages: finds and reports what it dropped. */
  retention: RetentionWatch | undefined
  /** Creates the consumer again when the server no longer answers for it. */
  ensureConsumer(): Promise<void>
  onClosed(subscription: PullSubscription): void
}

interface Delivery {
  msg: Msg
  info: DeliveryInfo
}

/** The dispatcher's open pull, answered once. */
export interface Waiter {
  max: number
  deliver(messages: InboundMessage[]): void
  fail(error: unknown): void
}

/**
 * Keeps the dispatcher's one open pull: `pull` makes it, `take` hands it over to be answered;
 * an abort answers it with []. Shared by both subscription kinds.
 */
export class PullSlot {
  private waiter: Waiter | undefined

  /** The open pull's `max`, 0 when none is open. */
  get max(): number {
    return this.waiter?.max ?? 0
  }

  /** Opens a pull (the dispatcher never has two). */
  open(max: number, signal: AbortSignal, deliver: Waiter['deliver'], fail: Waiter['fail']): void {
    const onAbort = () => {
      if (this.waiter === waiter) this.take()?.deliver([])
    }
    const done =
      <A>(answer: (a: A) => void) =>
      (a: A) => {
        signal.removeEventListener('abort', onAbort)
        answer(a)
      }
    const waiter: Waiter = { max, deliver: done(deliver), fail: done(fail) }
    signal.addEventListener('abort', onAbort, { once: true })
    this.waiter = waiter
  }

  /** Takes the open pull, if any, to answer it. */
  take(): Waiter | undefined {
    const waiter = this.waiter
    this.waiter = undefined
    return waiter
  }
}

/**
 * A durable pull consumer read through JetStream pull requests. What is requested from the
 * server never exceeds what the bus asked for (`pull(max)`), counting messages already received
 * and requests still open, so a slow handler slows the server's deliveries instead of filling
 * memory. Deliveries carry the stream's subject, not the request's, so open requests are counted
 * in aggregate: each delivery takes one off, and a request's end (408, 409) reports what it left
 * unfilled. Requests ask for idle heartbeats; silence means the server lost them. Delivered
 * messages are kept alive with in-progress acks until settled; on close those never handed to a
 * handler are given back (`-NAK`) so the group gets them at once; abandoned ones (a handler
 * still running) come back after the ack wait, one attempt further.
 */
export class PullSubscription implements TransportSubscription, DeliveryOwner {
  /** @internal Messages asked for and not yet delivered, over all open requests. */
  outstanding = 0
  /** @internal The topic its deliveries are handed out for. */
  readonly topic: string
  private readonly replyPrefix: string
  private readonly nextSubject: string
  private readonly buffer = new Deque<Delivery>()
  private readonly slot = new PullSlot()
  /** Open requests: id to batch size. */
  private readonly requests = new Map<number, number>()
  private readonly unsettled = new Set<string>()
  /** Errors for the bus that came while no pull was open: the next pull fails with them. */
  private readonly failures: unknown[] = []
  private readonly keepAlive: NodeJS.Timeout
  private readonly watchdog: NodeJS.Timeout
  private readonly maxDeliveries: Subscription | undefined
  private readonly heartbeatMs: number
  private lastHeard = Date.now()
  private nextId = 0
  private connected = true
  private checking: Promise<void> | undefined
  private delivering = false
  private closed = false

  constructor(private readonly init: PullInit) {
    const { apiPrefix, ackWaitMs, pullExpiresMs } = init.options
    this.topic = init.topic
    this.nextSubject = `${apiPrefix}.CONSUMER.MSG.NEXT.${init.stream}.${init.consumer}`
    this.replyPrefix = init.router.add(this, init.stream, init.consumer)
    // In-progress acks for held messages, so a long handler does not outlive the ack wait.
    this.keepAlive = setInterval(() => this.touch(), Math.max(50, Math.floor(ackWaitMs / 3)))
    this.heartbeatMs = Math.min(5_000, Math.max(100, Math.floor(pullExpiresMs / 5)))
    // Connection-level: notices when the server stopped answering open pull requests.
    this.watchdog = setInterval(() => this.watch(), this.heartbeatMs)
    this.keepAlive.unref()
    this.watchdog.unref()
    this.maxDeliveries = init.options.maxDeliver > 0 ? this.watchMaxDeliveries() : undefined
  }

  /**
   * The server gives up on a message after `maxDeliver` deliveries (its last one abandoned by a
   * member that left) and only says so in an advisory: report it, the group will not see it again.
   */
  private watchMaxDeliveries(): Subscription {
    const { nc, stream, consumer, topic } = this.init
    const subject = `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${consumer}`
    return nc.subscribe(subject, {
      callback: (error, msg) => {
        if (error !== null) return
        const { stream_seq: seq, deliveries } = msg.json<{
          stream_seq: number
          deliveries: number
        }>()
        const reason =
          `An event of "${topic}" (stream "${stream}" sequence ${seq}) reached maxDeliver ` +
          `(${deliveries} deliveries) unsettled: the server will not deliver it again`
        this.report(messagesLost(reason, stream, [seq], 1))
      },
    })
  }

  /** Delivers 1..max messages once any are there, [] when closed or aborted. */
  pull(
    max: number,
    signal: AbortSignal,
    deliver: (messages: InboundMessage[]) => void,
    fail: (error: unknown) => void,
  ): void {
    if (this.failures.length > 0 && !this.closed && !signal.aborted) {
      fail(this.failures.shift())
      return
    }
    if (this.closed || signal.aborted || this.buffer.length > 0) {
      const batch = signal.aborted ? [] : this.take(max)
      // Top up now, while the rest is handled: waiting until the buffer runs dry would leave
      // the server without a request for a round trip.
      if (batch.length > 0) this.request(max - batch.length)
      deliver(batch)
      return
    }
    this.slot.open(max, signal, deliver, fail)
    this.request()
  }

  /** Stops pulling, gives back what was never handled, leaves abandoned ones to the ack wait. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closed = true
    clearInterval(this.keepAlive)
    clearInterval(this.watchdog)
    this.maxDeliveries?.unsubscribe()
    this.disconnected()
    this.slot.take()?.deliver([])
    // From now on the transport's inbox hands late deliveries to another subscription of the
    // consumer, or gives them back.
    this.init.router.remove(this)
    const held = this.buffer.take(this.buffer.length)
    // Never handed to the bus, so not an attempt: the redelivery keeps its number.
    for (const { info } of held) this.init.attempts.returned(deliveryId(info), info.delivered)
    this.send(
      held.map((d) => d.msg.reply!),
      NAK,
    )
    // What is still unsettled has a handler running (the bus gave back what never started):
    // abandoned. It is left to the ack wait, whose redelivery counts as the next attempt; a
    // `-NAK` after in-progress acks makes nats-server start the delivery count again at 1, so
    // a handler that hangs every time would never use up its retry budget.
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
    this.lastHeard = Date.now()
    this.outstanding = Math.max(0, this.outstanding - 1)
    if (this.outstanding === 0) this.requests.clear()
    this.buffer.push({ msg, info })
    if (this.delivering) return
    // Let the rest of the same socket read arrive first, then hand over one batch.
    this.delivering = true
    queueMicrotask(() => {
      this.delivering = false
      this.deliver()
    })
  }

  /** @internal A heartbeat or the end of request `id` (408 expired, 409, 503 no responders). */
  onStatus(id: number, msg: Msg): void {
    this.lastHeard = Date.now()
    const code = msg.headers?.code ?? 0
    if (code === 100) return
    const batch = this.requests.get(id)
    if (batch !== undefined) {
      this.requests.delete(id)
      const left = Number(msg.headers?.get('Nats-Pending-Messages') || Number.NaN)
      this.outstanding = Math.max(0, this.outstanding - (Number.isFinite(left) ? left : batch))
    }
    const description = msg.headers?.description ?? ''
    if (code === 409 && /consumer (deleted|not found)/i.test(description)) this.recheck()
    else if (code === 503 || code === 409) {
      // JetStream restarting, leadership moving, too many waiting requests: the dispatcher asks
      // again a moment later, rather than this subscription spinning on requests.
      const reason = `Pull from "${this.init.topic}" refused: ${code} ${description}`
      this.slot.take()?.fail(new ConnectionError(reason))
    } else this.request()
  }

  /** Asks the server for what `limit` (the bus's free room, by default the pull's) leaves. */
  private request(limit = this.slot.max): void {
    if (limit <= 0 || this.closed || !this.connected || this.checking !== undefined) return
    const want = limit - this.outstanding - this.buffer.length
    // While requests are open, top up only by half the room or more (as nats.js's consume
    // does): one request per delivered message would double the server's work.
    if (want <= 0 || (this.outstanding > 0 && want < Math.ceil(limit / 2))) return
    const id = ++this.nextId
    const ns = 1_000_000
    const body = `{"batch":${want},"expires":${this.init.options.pullExpiresMs * ns},"idle_heartbeat":${this.heartbeatMs * ns}}`
    try {
      this.init.nc.publish(this.nextSubject, body, { reply: `${this.replyPrefix}.${id}` })
    } catch (error) {
      const reason = `Cannot pull from "${this.init.topic}": ${(error as Error).message}`
      this.slot.take()?.fail(new ConnectionError(reason, { cause: error }))
      return
    }
    if (this.requests.size === 0) this.lastHeard = Date.now()
    this.requests.set(id, want)
    this.outstanding += want
  }

  /**
   * Open requests that went quiet (no heartbeat, no delivery) for three heartbeats are lost.
   * Also runs the retention watch (which checks at its own pace).
   */
  private watch(): void {
    if (this.closed || !this.connected) return
    void this.init.retention?.check().then(
      (lost) => {
        for (const error of lost) this.report(error)
      },
      // The server did not answer: the connection's own errors say why; the next check counts.
      () => undefined,
    )
    if (this.requests.size === 0) return
    if (Date.now() - this.lastHeard <= this.heartbeatMs * 3) return
    this.requests.clear()
    this.outstanding = 0
    this.recheck()
  }

  /** Makes sure the consumer exists (the server may have lost it), then asks again. */
  private recheck(): void {
    this.checking ??= this.init
      .ensureConsumer()
      .catch((error: unknown) => this.slot.take()?.fail(error))
      .finally(() => {
        this.checking = undefined
        this.request()
      })
  }

  /** Hands an error to the bus through the open pull, or the next one. */
  private report(error: unknown): void {
    if (this.closed) return
    const waiter = this.slot.take()
    if (waiter !== undefined) waiter.fail(error)
    else this.failures.push(error)
  }

  private deliver(): void {
    if (this.buffer.length === 0) return
    const waiter = this.slot.take()
    waiter?.deliver(this.take(waiter.max))
  }

  private take(max: number): InboundMessage[] {
    return this.buffer.take(max).map((d) => this.inbound(d))
  }

  private inbound(delivery: Delivery): InboundMessage {
    const { msg, info } = delivery
    const reply = msg.reply!
    const { attempts } = this.init
    // The memory is empty unless something was given back: skip building its key per message.
    const remembered = attempts.size === 0 ? undefined : attempts.take(deliveryId(info))
    this.init.retention?.arrived(info.sequence)
    this.unsettled.add(reply)
    return new Delivered(this, msg, info, reply, remembered ?? info.delivered)
  }

  /** @internal Settles a delivery handed out by this subscription (`+ACK`). */
  ackDelivery(delivered: Delivered): void {
    this.settle(delivered.reply, ACK)
  }

  /** @internal Gives a delivery back for redelivery after `delayMs`. */
  nackDelivery(delivered: Delivered, { delayMs, attempt }: NackOptions): void {
    const { reply, info, msg } = delivered
    const { attempts, options } = this.init
    if (!this.unsettled.has(reply)) return
    attempts.remember(deliveryId(info), attempt + 1, delayMs + 2 * options.ackWaitMs)
    if (options.maxDeliver > 0 && info.delivered >= options.maxDeliver) {
      // The server will not deliver it again, but the bus wants another attempt: offer it
      // again here at once (without the delay), so the bus's budget still decides.
      this.unsettled.delete(reply)
      this.buffer.push({ msg, info })
      this.deliver()
      return
    }
    const delayNs = Math.max(0, Math.round(delayMs)) * 1_000_000
    const watchFor = delayMs + 2 * options.ackWaitMs + options.pullExpiresMs
    if (delayNs > 0) this.init.retention?.waiting(info.sequence, Date.now() + watchFor)
    this.settle(reply, delayNs > 0 ? text.encode(`-NAK {"delay":${delayNs}}`) : NAK)
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
