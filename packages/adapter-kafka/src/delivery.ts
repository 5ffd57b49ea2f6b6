import type { InboundMessage, NackOptions, TransactionalOutput } from '@switchyard/core/transport'
import type { RecordIn } from './client.js'
import { position, readBody, readHeaders, readKey, readTimestamp } from './mapping.js'
import type { Entry, PartitionTracker } from './offsets.js'

/** Where a delivery reports its outcome. */
export interface DeliveryOwner {
  settle(delivery: Delivery, outputs?: readonly TransactionalOutput[]): void
  redeliver(delivery: Delivery, options: NackOptions): void
}

/**
 * One fetched record handed to the dispatcher. A class with prototype methods and lazily read
 * fields rather than an object of closures: tens of thousands pass through each second.
 */
export class Delivery implements InboundMessage {
  /** Set once acked or nacked; later calls are ignored. */
  settled = false
  private decodedHeaders: Record<string, string> | undefined

  constructor(
    private readonly owner: DeliveryOwner,
    readonly topic: string,
    readonly partition: number,
    readonly record: RecordIn,
    readonly entry: Entry,
    readonly tracker: PartitionTracker,
    readonly generation: number,
    readonly attempt: number,
  ) {}

  /** Record headers as UTF-8 strings. */
  get headers(): Record<string, string> {
    this.decodedHeaders ??= readHeaders(this.record)
    return this.decodedHeaders
  }

  /** The record value. */
  get body(): Uint8Array {
    return readBody(this.record)
  }

  /** The record key. */
  get key(): string | undefined {
    return readKey(this.record)
  }

  /** The record's timestamp (ms since the epoch). */
  get timestamp(): number | undefined {
    return readTimestamp(this.record)
  }

  /** `partition:offset`. */
  get position(): string {
    return position(this.partition, this.record.offset)
  }

  /** The same record again, for a redelivery. */
  again(attempt: number): Delivery {
    const { owner, topic, partition, record, entry, tracker, generation } = this
    return new Delivery(owner, topic, partition, record, entry, tracker, generation, attempt)
  }

  ack(outputs?: readonly TransactionalOutput[]): void {
    this.owner.settle(this, outputs)
  }

  nack(options: NackOptions): void {
    this.owner.redeliver(this, options)
  }
}
