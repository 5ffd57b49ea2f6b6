import type {
  EventEnvelope,
  InboundMessage,
  NackOptions,
  OutboundMessage,
} from '@switchyard/core/transport'

/** One event as the broker stores it: the native message of the memory transport. */
export interface Stored {
  readonly seq: number
  /** When the broker stored it, in milliseconds since the epoch. */
  readonly timestamp: number
  readonly key: string | undefined
  readonly headers: Record<string, string>
  readonly body: Uint8Array
  readonly event: EventEnvelope | undefined
}

/** Turns an outgoing message into what the broker stores. */
export function toStored(message: OutboundMessage, seq: number, timestamp: number): Stored {
  return {
    seq,
    timestamp,
    key: message.key,
    headers: message.headers,
    body: message.body,
    event: message.event,
  }
}

/** Who settles a delivery: the group member that holds it. */
export interface Holder {
  /** The topic the member reads. */
  readonly topicName: string
  /** Acknowledges the delivery (may wait, with an injected ack delay). */
  ack(message: MemoryMessage): void | Promise<void>
  /** Gives the delivery back for redelivery with `attempt + 1`. */
  nack(message: MemoryMessage, options: NackOptions): void
}

/** One delivery handed to a member; a class, so the hot path allocates no closures. */
export class MemoryMessage implements InboundMessage {
  readonly topic: string
  readonly headers: Record<string, string>
  readonly body: Uint8Array
  readonly key: string | undefined
  readonly event: EventEnvelope | undefined
  /** Set once the holder took the delivery off its books (settled or given back). */
  settled = false
  /** Neighbours in the holder's list of unsettled deliveries. */
  previous: MemoryMessage | undefined = undefined
  next: MemoryMessage | undefined = undefined

  constructor(
    private readonly holder: Holder,
    readonly stored: Stored,
    readonly attempt: number,
  ) {
    this.topic = holder.topicName
    this.headers = stored.headers
    this.body = stored.body
    this.key = stored.key
    this.event = stored.event
  }

  get position(): string {
    return String(this.stored.seq)
  }

  get timestamp(): number {
    return this.stored.timestamp
  }

  ack(): void | Promise<void> {
    return this.holder.ack(this)
  }

  nack(options: NackOptions): void {
    this.holder.nack(this, options)
  }
}

/** A retained event as a read-only message, for dead-letter listing: settling it does nothing. */
export function browsed(topic: string, stored: Stored): InboundMessage {
  return {
    topic,
    headers: stored.headers,
    body: stored.body,
    key: stored.key,
    attempt: 1,
    position: String(stored.seq),
    timestamp: stored.timestamp,
    event: stored.event,
    ack: () => undefined,
    nack: () => undefined,
  }
}
