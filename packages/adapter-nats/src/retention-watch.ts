import type { JetStreamManager, StreamConfig } from '@nats-io/jetstream'
import type { MessagesLostError } from '@switchyard/core/transport'
import { messagesLost } from './errors.js'
import { covers } from './mapping.js'

function set(limit: number | undefined): boolean {
  return limit !== undefined && limit > 0
}

/**
 * True when the stream may remove a message no group has settled: a count or size limit that
 * drops the oldest (`discard: 'old'`, the server's default), or a maximum age.
 */
export function mayDrop(config: Partial<StreamConfig>): boolean {
  const c = config as Partial<StreamConfig> & { discard_new_per_subject?: boolean }
  const dropsOld = c.discard !== 'new' && (set(c.max_msgs) || set(c.max_bytes))
  const perSubject = set(c.max_msgs_per_subject) && c.discard_new_per_subject !== true
  return dropsOld || perSubject || set(c.max_age)
}

interface Position {
  /** Stream sequence of the consumer's last delivery (or the last removed one, if higher). */
  sequence: number
  /** Deliveries the consumer made so far, redeliveries included. */
  deliveries: number
}

/**
 * Finds what a stream that may drop messages (see `mayDrop`) removed before a group settled it,
 * so the loss is reported instead of silent. Two checks, every `everyMs`:
 * - a retry waiting in the broker (`nak` with a delay) whose message left the stream before it
 *   came back here is lost;
 * - the server moves a consumer past messages removed before it read them without saying so.
 *   Between two checks the consumer's position advanced by some stream sequences and it made
 *   some deliveries: when it reads every subject of the stream, sequences passed without a
 *   delivery were skipped. Redeliveries count as deliveries, so this is a lower bound.
 * Every member of a group runs its own watch, so each process hears of a loss.
 */
export class RetentionWatch {
  /** Stream sequence of a retry waiting in the broker, to when it is no longer watched. */
  private readonly retries = new Map<number, number>()
  private last: Position | undefined
  /** Losses found before the subscription started, reported at the first check. */
  private found: MessagesLostError[] = []
  private nextAt = 0
  private running = false

  private constructor(
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    private readonly consumer: string,
    private readonly topic: string,
    /** The consumer reads every subject of the stream, so skipped sequences count. */
    private readonly whole: boolean,
    private readonly everyMs: number,
  ) {}

  /** A watch for the consumer, or `undefined` when its stream never drops what is unsettled. */
  static async create(
    jsm: JetStreamManager,
    at: { stream: string; consumer: string; topic: string; subjects: readonly string[] },
    everyMs: number,
  ): Promise<RetentionWatch | undefined> {
    const info = await jsm.streams.info(at.stream)
    if (!mayDrop(info.config)) return undefined
    const whole = (info.config.subjects ?? []).every((s) => at.subjects.some((f) => covers(f, s)))
    const watch = new RetentionWatch(jsm, at.stream, at.consumer, at.topic, whole, everyMs)
    // Before the first pull: the consumer's position is where the group left off.
    watch.found = await watch.check()
    return watch
  }

  /** A retry of `sequence` now waits in the broker; watched until `untilMs`. */
  waiting(sequence: number, untilMs: number): void {
    this.retries.set(sequence, untilMs)
  }

  /** `sequence` was delivered: a retry of it came back. */
  arrived(sequence: number): void {
    if (this.retries.size > 0) this.retries.delete(sequence)
  }

  /** Checks when due (one at a time); resolves to the losses found, usually none. */
  async check(now = Date.now()): Promise<MessagesLostError[]> {
    if (this.found.length > 0) return this.found.splice(0)
    if (this.running || now < this.nextAt) return []
    this.running = true
    this.nextAt = now + this.everyMs
    try {
      const [stream, consumer] = await Promise.all([
        this.jsm.streams.info(this.stream),
        this.jsm.consumers.info(this.stream, this.consumer),
      ])
      const first = stream.state.first_seq
      const lost: MessagesLostError[] = []
      const gone: number[] = []
      for (const [sequence, until] of this.retries) {
        if (sequence < first) gone.push(sequence)
        if (sequence < first || until < now) this.retries.delete(sequence)
      }
      if (gone.length > 0) {
        lost.push(
          messagesLost(
            `${gone.length} event(s) of "${this.topic}" waiting for a retry (stream "${this.stream}" ` +
              `sequence ${gone.join(', ')}) were removed by the stream's retention before the ` +
              'retry came: they are lost (the stream drops its oldest messages: discard "old" or maxAgeMs)',
            this.stream,
            gone,
            gone.length,
          ),
        )
      }
      const unread = this.unread(first, consumer.delivered)
      if (unread !== undefined) lost.push(unread)
      return lost
    } finally {
      this.running = false
    }
  }

  /**
   * Unread messages removed since the last check, for a consumer of the whole stream. The
   * server's `delivered.stream_seq` is the sequence before the next one it would deliver (a new
   * consumer's start less one), so the first check counts what was removed while the group had
   * no member too.
   */
  private unread(
    first: number,
    delivered: { stream_seq: number; consumer_seq: number },
  ): MessagesLostError | undefined {
    const before = this.last ?? {
      sequence: delivered.stream_seq,
      deliveries: delivered.consumer_seq,
    }
    // Removed sequences the consumer has not reached count as passed over now: the server skips
    // them at its next delivery.
    const now = {
      sequence: Math.max(delivered.stream_seq, first - 1),
      deliveries: delivered.consumer_seq,
    }
    this.last = now
    if (!this.whole) return undefined
    const skipped = now.sequence - before.sequence - (now.deliveries - before.deliveries)
    if (skipped <= 0) return undefined
    const from = before.sequence + 1
    return messagesLost(
      `${skipped} event(s) of "${this.topic}" (stream "${this.stream}" sequences ${from} to ` +
        `${now.sequence}) were removed by the stream's retention before the group read them: ` +
        'they are lost (the stream drops its oldest messages: discard "old" or maxAgeMs)',
      this.stream,
      [from, now.sequence],
      skipped,
    )
  }
}
