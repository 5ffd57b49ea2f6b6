import { InFlight, type OutboundMessage } from '@switchyard/core/transport'
import type { Cluster, Redis } from 'ioredis'
import { publishError } from './errors.js'
import { type TopicKeys, toFields } from './mapping.js'
import { runScript, SCRIPTS } from './scripts.js'

interface Pending {
  topic: string
  keys: TopicKeys
  messages: readonly OutboundMessage[]
  resolve: () => void
  reject: (error: Error) => void
}

/**
 * Up to this many events per turn of the event loop are written at once, one `XADD` each (a
 * deferred write adds latency); from there on a turn's publishes are queued and sent as one
 * pipeline at the end of the turn (a `Pipeline` per few events is costly garbage). See README.
 */
const PIPELINE_FROM = 32

/** Most entries one trim removes: it reads them first (XRANGE), so the work of a call is bounded. */
const TRIM_LIMIT = 1_000

/** `maxStreamLength` and `lossyTrim`. */
export interface Retention {
  readonly maxLength: number
  readonly lossy: boolean
}

/**
 * Sends publishes in order on the command connection: the first few of a turn at once, a burst
 * beyond that as one pipelined write at the end of the turn, so concurrent `bus.publish` calls
 * share a socket write instead of paying a system call each.
 */
export class Publisher {
  private queue: Pending[] = []
  /** Writes sent and not answered, and a flush scheduled: what `drain` waits for. */
  private readonly inFlight = new InFlight()
  private scheduled = false
  /** Events written at once in this turn of the event loop. */
  private direct = 0
  private directReset = false
  /** The command connection's socket holds this turn's direct writes (see `cork`). */
  private corked = false
  /** Events stored per stream since its last trim. */
  private readonly untrimmed = new Map<string, number>()
  private readonly trimEvery: number

  constructor(
    private readonly client: Redis | Cluster,
    private readonly retention: Retention | undefined,
    private readonly cluster: boolean,
  ) {
    // A trim every tenth of the limit: the stream overshoots it by about that much at most.
    this.trimEvery = Math.min(TRIM_LIMIT / 2, Math.ceil((retention?.maxLength ?? 0) / 10))
  }

  /** Appends the messages to the stream, in order; resolves once Redis returned every id. */
  publish(topic: string, keys: TopicKeys, messages: readonly OutboundMessage[]): Promise<void> {
    // Nothing queued ahead of it (that would be overtaken) and the turn's direct budget left.
    if (this.queue.length === 0 && this.direct + messages.length < PIPELINE_FROM) {
      if (this.direct > 0 || messages.length > 1) this.cork()
      this.direct += messages.length
      if (!this.directReset) {
        this.directReset = true
        process.nextTick(() => {
          this.direct = 0
          this.directReset = false
        })
      }
      return this.sendNow(topic, keys, messages)
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ topic, keys, messages, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        this.inFlight.enter()
        // After the microtasks of this turn: every publish started in it joins the batch.
        process.nextTick(() => this.flush())
      }
    })
  }

  /**
   * Holds the socket's writes until the end of this turn, so the direct writes after the first
   * one of a turn leave in one system call instead of one each (the first, a lone publish's,
   * is not delayed). The commands are sent as before; only the socket's flush is batched.
   */
  private cork(): void {
    if (this.corked || this.cluster) return
    const stream = (this.client as Redis).stream as Redis['stream'] | undefined
    if (stream === undefined || typeof stream.cork !== 'function') return
    stream.cork()
    this.corked = true
    process.nextTick(() => {
      this.corked = false
      stream.uncork()
    })
  }

  /** Resolves once everything queued so far (and anything queued meanwhile) was answered. */
  drain(): Promise<void> {
    return this.inFlight.idle()
  }

  private flush(): void {
    this.scheduled = false
    try {
      this.send(this.queue.splice(0))
    } finally {
      // The sends started above are counted on their own.
      this.inFlight.leave()
    }
  }

  private send(batch: Pending[]): void {
    let count = 0
    for (const pending of batch) count += pending.messages.length
    if (count < PIPELINE_FROM) {
      // Few events: one command each, all written in this turn, as a direct write would be.
      for (const pending of batch)
        this.sendNow(pending.topic, pending.keys, pending.messages).then(
          pending.resolve,
          pending.reject,
        )
      return
    }
    // A Cluster pipeline must stay in one hash slot: one pipeline per stream there.
    const groups = new Map<string, Pending[]>()
    for (const pending of batch) {
      const key = this.cluster ? pending.keys.stream : ''
      const group = groups.get(key)
      if (group === undefined) groups.set(key, [pending])
      else group.push(pending)
    }
    for (const group of groups.values()) void this.inFlight.track(this.sendPipelined(group))
  }

  /** `XADD` arguments for one message: stream, `*`, fields. */
  private xaddArgs(stream: string, message: OutboundMessage): Array<string | Buffer | number> {
    return toFields(message, [stream, '*'])
  }

  /**
   * Counts stored events; every `trimEvery` of a stream, trims it (see SCRIPTS.trim). Not
   * `XADD MAXLEN`: that trims by count alone, past entries a group has not handled.
   */
  private stored(keys: TopicKeys, count: number): void {
    if (this.retention === undefined) return
    const untrimmed = (this.untrimmed.get(keys.stream) ?? 0) + count
    // Topics are few; the cap only guards against a process that invents them without end.
    if (untrimmed < this.trimEvery && this.untrimmed.size < 10_000) {
      this.untrimmed.set(keys.stream, untrimmed)
      return
    }
    this.untrimmed.delete(keys.stream)
    const { maxLength, lossy } = this.retention
    const args = [maxLength, lossy ? 1 : 0, TRIM_LIMIT]
    // A failed trim loses nothing: the stream stays longer until the next one.
    const trim = runScript(this.client, SCRIPTS.trim, [keys.stream, keys.trimmed], args)
    void this.inFlight.track(trim.catch(() => undefined))
  }

  /** Writes one publish's commands now; its promise settles with their replies. */
  private async sendNow(
    topic: string,
    keys: TopicKeys,
    messages: readonly OutboundMessage[],
  ): Promise<void> {
    const { stream } = keys
    this.inFlight.enter()
    try {
      // The arguments as one array: ioredis copies them once more, not once per spread.
      if (messages.length === 1) await this.client.call('XADD', this.xaddArgs(stream, messages[0]!))
      else
        await Promise.all(messages.map((m) => this.client.call('XADD', this.xaddArgs(stream, m))))
      this.stored(keys, messages.length)
    } catch (error) {
      throw publishError(topic, messages.length, error)
    } finally {
      this.inFlight.leave()
    }
  }

  /** Many events: one pipeline, one write of all commands. */
  private async sendPipelined(batch: Pending[]): Promise<void> {
    const pipeline = this.client.pipeline()
    for (const pending of batch) {
      for (const message of pending.messages)
        pipeline.call('XADD', this.xaddArgs(pending.keys.stream, message))
    }
    let results: Array<[Error | null, unknown]> | null
    try {
      results = await pipeline.exec()
    } catch (error) {
      for (const pending of batch)
        pending.reject(publishError(pending.topic, pending.messages.length, error))
      return
    }
    let index = 0
    for (const pending of batch) {
      let failure: Error | null = null
      for (let i = 0; i < pending.messages.length; i++) failure ??= results?.[index++]?.[0] ?? null
      if (failure === null && results !== null) {
        this.stored(pending.keys, pending.messages.length)
        pending.resolve()
      } else
        pending.reject(
          publishError(pending.topic, pending.messages.length, failure ?? new Error('no reply')),
        )
    }
  }
}
