import {
  createInbox,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node'
import { type AttemptMemory, deliveryId } from './attempt-memory.js'
import { type DeliveryInfo, parseAckSubject } from './mapping.js'

const NAK = new TextEncoder().encode('-NAK')

/** What the router hands messages to: one pull subscription. */
export interface InboxTarget {
  /** Requests of this subscription open at the server that may still deliver. */
  readonly outstanding: number
  /** A delivery for this subscription's consumer. */
  onData(msg: Msg, info: DeliveryInfo): void
  /** A status message (heartbeat, 408, 409, 503) answering request `requestId`. */
  onStatus(requestId: number, msg: Msg): void
}

/**
 * The inboxes pull requests answer to, one per pull subscription under one prefix. JetStream
 * deliveries carry the stream's subject, not the request's, so they are routed by the consumer
 * named in their ack subject; status messages come on the request's own subject. When a pull
 * subscription closes, its inbox is drained: the server drops requests nobody listens to any
 * more (it checks interest before each delivery), so they cannot go on taking messages that
 * would only be given back, each time counting a delivery and so an attempt. What was already
 * on the wire goes to another open subscription of the same consumer, or straight back.
 */
export class InboxRouter {
  /** Subject prefix; subscription `n`'s requests reply to `<prefix>.<n>.<request>`. */
  readonly prefix = createInbox()
  private readonly subs = new Map<InboxTarget, Subscription>()
  private readonly byId = new Map<number, InboxTarget>()
  private readonly byConsumer = new Map<string, InboxTarget[]>()
  private nextId = 0

  constructor(
    private readonly nc: NatsConnection,
    private readonly attempts: AttemptMemory,
  ) {}

  /** Registers a subscription; returns the reply subject prefix for its requests. */
  add(target: InboxTarget, stream: string, consumer: string): string {
    const id = ++this.nextId
    this.byId.set(id, target)
    const key = `${stream}/${consumer}`
    this.byConsumer.set(key, [...(this.byConsumer.get(key) ?? []), target])
    const sub = this.nc.subscribe(`${this.prefix}.${id}.*`, {
      callback: (error, msg) => {
        if (error === null) this.route(msg)
      },
    })
    this.subs.set(target, sub)
    return `${this.prefix}.${id}`
  }

  /** Unregisters a subscription: its late deliveries go elsewhere from now on. */
  remove(target: InboxTarget): void {
    for (const [id, t] of this.byId) if (t === target) this.byId.delete(id)
    for (const [key, list] of this.byConsumer) {
      const rest = list.filter((t) => t !== target)
      if (rest.length === 0) this.byConsumer.delete(key)
      else this.byConsumer.set(key, rest)
    }
    const sub = this.subs.get(target)
    this.subs.delete(target)
    // Deliveries still on the wire arrive before the drain ends and are routed on from here.
    void sub?.drain().catch(() => undefined)
  }

  /** Drains the inbox; deliveries still on the wire are given back. */
  async close(): Promise<void> {
    const subs = [...this.subs.values()]
    this.subs.clear()
    await Promise.all(subs.map((sub) => sub.drain().catch(() => undefined)))
  }

  private route(msg: Msg): void {
    const info = parseAckSubject(msg.reply)
    if (info !== undefined) {
      const targets = this.byConsumer.get(`${info.stream}/${info.consumer}`)
      const target = targets?.find((t) => t.outstanding > 0) ?? targets?.[0]
      if (target !== undefined) target.onData(msg, info)
      else this.giveBack(msg.reply!, info)
      return
    }
    const [sub, request] = msg.subject.slice(this.prefix.length + 1).split('.')
    this.byId.get(Number(sub))?.onStatus(Number(request), msg)
  }

  private giveBack(reply: string, info: DeliveryInfo): void {
    // Never handed to a handler, so not an attempt: a redelivery here keeps its number.
    this.attempts.returned(deliveryId(info), info.delivered)
    try {
      this.nc.publish(reply, NAK)
    } catch {
      // Connection closed: the server redelivers after the ack wait instead.
    }
  }
}
