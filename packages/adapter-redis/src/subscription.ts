import {
  type InboundMessage,
  type NackOptions,
  type TransportSubscription,
  withTimeout,
} from '@switchyard/core/transport'
import type { Cluster, Redis } from 'ioredis'
import { isMissingGroup, trimmedUnsettled } from './errors.js'
import { StreamEntry as Entry, type TopicKeys } from './mapping.js'
import { runScript, SCRIPTS, type Script } from './scripts.js'

/** What a subscription needs from its transport. */
export interface SubscriptionInit {
  topic: string
  group: string
  consumer: string
  keys: TopicKeys
  /** Shared command connection: acks, scripts. */
  client: Redis | Cluster
  /** This subscription's own connection for blocking reads. */
  reader: Redis | Cluster
  consumerTimeoutMs: number
  /** A request/reply inbox: its keys are deleted on close. */
  ephemeral: boolean
  prefetchCount: number
  /** Recreates the group when the server lost it (restart without persistence). */
  recreateGroup(): Promise<void>
  onClosed(): void
}

/** Longest single `XREADGROUP BLOCK`; parked entries and reclaims are checked at least this often. */
const POLL_MS = 1_000
/** Longest block when the read cannot be woken (Cluster, or a reconnect in progress). */
const SHORT_BLOCK_MS = 100
type Reply = Array<Buffer | number | Reply>

/**
 * A consumer of one group: reads new entries with `XREADGROUP`, redelivers parked (nacked)
 * entries when due, reclaims entries a crashed consumer left pending, and recovers its own
 * pending entries after a reconnect.
 */
export class RedisSubscription implements TransportSubscription {
  private readonly buffer: Entry[] = []
  /** Entries read from Redis and not settled: buffered or handed out. */
  private readonly owned = new Map<string, Entry>()
  private reading: Promise<void> | undefined
  private blockedUntil = 0
  private wakeAt = 0
  private nextPoll = 0
  private nextReclaim = 0
  private cursor = '0-0'
  private recoverFrom: string | undefined
  private readerId: number | undefined
  private acks: string[] = []
  /** Events the group lost to `lossyTrim`, taken from Redis and not yet reported. */
  private trimmed = 0
  /** Acknowledged by the bus, `XACK` not yet confirmed: not to be recovered as lost. */
  private readonly acking = new Set<string>()
  private ackFlush: Promise<void> | undefined
  private readonly touchTimer: NodeJS.Timeout
  private closing: Promise<void> | undefined
  private watched: AbortSignal | undefined

  constructor(private readonly init: SubscriptionInit) {
    // Keeps what this consumer holds its own (see touch): a lease renewal, not a redelivery.
    this.touchTimer = setInterval(() => void this.touch(), Math.max(50, init.consumerTimeoutMs / 3))
    this.touchTimer.unref()
    init.reader.on('close', () => {
      this.readerId = undefined
    })
    init.reader.on('ready', () => {
      // After a reconnect a read may have been served with its reply lost: look at our own
      // pending entries now instead of waiting for the visibility timeout.
      this.recoverFrom = '-'
      void this.fetchReaderId()
    })
  }

  /**
   * Learns the reader's client id, so a blocked read can be woken (`CLIENT UNBLOCK`) when a
   * parked entry falls due or the subscription closes. Without it reads still end within 1 s.
   */
  async fetchReaderId(): Promise<void> {
    const { reader } = this.init
    if (typeof (reader as Cluster).nodes === 'function') return
    this.readerId = Number(await (reader as Redis).client('ID').catch(() => Number.NaN))
    if (Number.isNaN(this.readerId)) this.readerId = undefined
  }

  /**
   * Answers once: buffered entries at once, else after the next read (or parked, reclaimed or
   * recovered entries) brought some; `[]` once closed or aborted; `fail` for a read error.
   */
  pull(
    max: number,
    signal: AbortSignal,
    deliver: (messages: InboundMessage[]) => void,
    fail: (error: unknown) => void,
  ): void {
    if (this.closing !== undefined || signal.aborted) deliver([])
    else if (this.trimmed > 0) fail(this.lossReport())
    else if (this.buffer.length > 0) deliver(this.buffer.splice(0, max))
    else {
      this.watch(signal)
      this.fill(max, signal).then(() => {
        const done = this.closing !== undefined || signal.aborted
        // Reported before anything else is delivered; what was read stays buffered.
        if (!done && this.trimmed > 0) fail(this.lossReport())
        else deliver(done ? [] : this.buffer.splice(0, max))
      }, fail)
    }
  }

  /** The events lost to `lossyTrim` as an error for the bus's `onError`, counted once. */
  private lossReport(): Error {
    const error = trimmedUnsettled(this.init.keys.stream, this.init.group, this.trimmed)
    this.trimmed = 0
    return error
  }

  /** Reads until something is buffered, the subscription closes or `signal` aborts. */
  private async fill(max: number, signal: AbortSignal): Promise<void> {
    while (this.closing === undefined && !signal.aborted && this.buffer.length === 0) {
      // An XACK that failed (connection lost) goes again with the next read, not on a timer.
      if (this.acks.length > 0) this.ackFlush ??= this.flushAcks()
      await this.maintain(max).catch(async (error: unknown) => {
        // The stream or group is gone (a restart without persistence): recreate, go on.
        if (!isMissingGroup(error)) throw error
        await this.init.recreateGroup()
      })
      // Lost events are reported first (see pull).
      if (this.buffer.length > 0 || signal.aborted || this.trimmed > 0) break
      const now = Date.now()
      const cap = this.readerId === undefined ? now + SHORT_BLOCK_MS : Number.POSITIVE_INFINITY
      const until = Math.min(this.wakeAt, this.nextPoll, this.nextReclaim, cap)
      if (until <= now) continue
      // An abort wakes the read (CLIENT UNBLOCK), or it ends within SHORT_BLOCK_MS.
      this.reading ??= this.read(Math.min(max, this.init.prefetchCount), until - now)
      await this.reading
    }
  }

  /** Wakes a blocked read when `signal` aborts: one listener per signal, not one per read. */
  private watch(signal: AbortSignal): void {
    if (this.watched === signal) return
    this.watched = signal
    signal.addEventListener('abort', () => this.unblock(), { once: true })
  }

  /** Settles an entry: acknowledgements of one turn of the event loop go out as one `XACK`. */
  ack(entry: Entry): void {
    if (!this.release(entry)) return
    this.acking.add(entry.position)
    this.acks.push(entry.position)
    // Batching, not a delay: the flush runs once this turn's handlers have settled.
    this.ackFlush ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
      this.flushAcks(),
    )
  }

  /** Parks an entry for redelivery after `delayMs`; it stays pending meanwhile. */
  async nack(entry: Entry, options: NackOptions): Promise<void> {
    if (!this.release(entry)) return
    await this.park([entry], options.delayMs, () => options.attempt)
  }

  /**
   * Takes an entry out of what this subscription holds; false when it no longer holds it: it was
   * handed back at close, and another member may have it now, with a retry waiting. A handler
   * that outlived the close must not settle it for the group (its ack would cancel that retry).
   */
  private release(entry: Entry): boolean {
    if (this.owned.get(entry.position) !== entry) return false
    this.owned.delete(entry.position)
    return true
  }

  /** Stops reading; held entries go back (parked, due now) for this group to take again. */
  close(): Promise<void> {
    this.closing ??= this.doClose()
    return this.closing
  }

  private async park(entries: Entry[], delayMs: number, made: (e: Entry) => number): Promise<void> {
    const delay = Math.max(0, Math.ceil(delayMs))
    const args: Array<string | number> = [delay]
    for (const entry of entries) args.push(entry.position, made(entry))
    const { keys, group } = this.init
    await runScript(this.init.client, SCRIPTS.nack, [keys.delay(group), keys.attempts(group)], args)
    const due = Date.now() + delay
    if (due < this.wakeAt) this.wakeAt = due
    if (this.blockedUntil > due) this.unblock()
  }

  /** Gives recovery, due parked entries and a reclaim sweep their turn when they want one. */
  private async maintain(room: number): Promise<void> {
    if (this.recoverFrom !== undefined) await this.recover(room)
    const now = Date.now()
    if (this.buffer.length < room && (now >= this.wakeAt || now >= this.nextPoll)) {
      await this.takeDue(room - this.buffer.length)
    }
    if (this.buffer.length < room && now >= this.nextReclaim)
      await this.reclaim(room - this.buffer.length)
  }

  private async read(count: number, blockMs: number): Promise<void> {
    const { reader, keys, group, consumer } = this.init
    this.blockedUntil = Date.now() + blockMs
    try {
      const head = ['GROUP', group, consumer, 'COUNT', count]
      const args = [...head, 'BLOCK', blockMs, 'STREAMS', keys.stream, '>']
      const reply = (await reader.callBuffer('XREADGROUP', args)) as Reply | null
      const entries = (reply?.[0] as Reply | undefined)?.[1] as Reply[] | undefined
      for (const [id, fields] of entries ?? [])
        this.accept(id as Buffer, fields as Buffer[] | null, 1)
    } catch (error) {
      if (!isMissingGroup(error)) throw error
      await this.init.recreateGroup()
    } finally {
      this.blockedUntil = 0
      this.reading = undefined
    }
  }

  private async takeDue(count: number): Promise<void> {
    const { keys, group, consumer } = this.init
    const due = [keys.stream, keys.delay(group), keys.attempts(group), keys.trimmed]
    const reply = await this.run(SCRIPTS.due, due, [group, consumer, count], 3)
    const serverNow = reply[0] as number
    const nextDue = String(reply[1])
    this.trimmed += reply[2] as number
    const now = Date.now()
    this.nextPoll = now + POLL_MS
    if (reply.length - 3 >= count) this.wakeAt = now
    else
      this.wakeAt =
        nextDue === '' ? Number.POSITIVE_INFINITY : now + Math.max(0, Number(nextDue) - serverNow)
  }

  private async reclaim(count: number): Promise<void> {
    const { client, keys, group, consumer, consumerTimeoutMs } = this.init
    const args = [group, consumer, consumerTimeoutMs, this.cursor, count]
    const reply = await this.run(SCRIPTS.reclaim, [keys.stream, keys.delay(group)], args, 1)
    this.cursor = String(reply[0])
    // Keep sweeping on the next pull until the cursor wraps around, then tidy the group.
    if (this.cursor !== '0-0') {
      this.nextReclaim = 0
      return
    }
    this.nextReclaim = Date.now() + Math.max(50, consumerTimeoutMs / 2)
    await runScript(client, SCRIPTS.prune, [keys.stream], [group, consumerTimeoutMs])
  }

  private async recover(count: number): Promise<void> {
    const { keys, group, consumer } = this.init
    const args = [group, consumer, this.recoverFrom!, count]
    const reply = await this.run(SCRIPTS.recover, [keys.stream, keys.delay(group)], args, 2)
    this.recoverFrom = (reply[1] as number) < count ? undefined : `(${String(reply[0])}`
  }

  /** Runs a script that answers some header values, then `{id, fields, attempt}` from `from` on. */
  private async run(
    script: Script,
    keys: string[],
    args: Array<string | number>,
    from: number,
  ): Promise<Reply> {
    const reply = (await runScript(this.init.client, script, keys, args)) as Reply
    for (let i = from; i < reply.length; i++) {
      const [id, fields, attempt] = reply[i] as [Buffer, Buffer[], number]
      this.accept(id, fields, attempt)
    }
    return reply
  }

  private accept(id: Buffer, fields: Buffer[] | null, attempt: number): void {
    const position = id.toString()
    if (fields === null || this.owned.has(position) || this.acking.has(position)) return
    const entry = new Entry(this.init.topic, position, fields, attempt, this)
    this.owned.set(position, entry)
    this.buffer.push(entry)
  }

  private unblock(): void {
    if (this.readerId === undefined || this.reading === undefined) return
    this.init.client.call('CLIENT', 'UNBLOCK', this.readerId).catch(() => undefined)
  }

  private flushAcks(): Promise<void> {
    const ids = this.acks
    this.acks = []
    this.ackFlush = undefined
    if (ids.length === 0) return Promise.resolve()
    const { client, keys, group } = this.init
    return client.xack(keys.stream, group, ...ids).then(
      () => {
        for (const id of ids) this.acking.delete(id)
      },
      () => {
        // Not acknowledged: the ids go with the next flush; at worst they are redelivered.
        this.acks.push(...ids)
      },
    )
  }

  private async touch(): Promise<void> {
    if (this.owned.size === 0 || this.closing !== undefined) return
    const { client, keys, group, consumer } = this.init
    await runScript(
      client,
      SCRIPTS.touch,
      [keys.stream],
      [group, consumer, ...this.owned.keys()],
    ).catch(() => undefined)
  }

  private async doClose(): Promise<void> {
    clearInterval(this.touchTimer)
    this.unblock()
    const { reader, client, keys, group, consumer } = this.init
    // Woken by CLIENT UNBLOCK at once; a read stuck on a dead connection is cut off (reader.quit).
    if (this.reading !== undefined) await withTimeout(this.reading, 2_000).catch(() => undefined)
    // Buffered entries never reached a handler (their attempt was not made); handed-out ones did.
    const buffered = new Set(this.buffer.splice(0))
    const back = [...this.owned.values()]
    this.owned.clear()
    // Whatever cannot be settled here stays pending and is reclaimed after consumerTimeoutMs.
    await (this.ackFlush ?? this.flushAcks())
    if (this.init.ephemeral) {
      // An inbox is this process's alone: nothing of it is left behind.
      const { stream, trimmed } = keys
      await client
        .del(stream, trimmed, keys.delay(group), keys.attempts(group))
        .catch(() => undefined)
    } else if (back.length > 0) {
      await this.park(back, 0, (e) => (buffered.has(e) ? e.attempt - 1 : e.attempt)).catch(
        () => undefined,
      )
    }
    await runScript(client, SCRIPTS.leave, [keys.stream], [group, consumer]).catch(() => undefined)
    await reader.quit().catch(() => reader.disconnect())
    this.init.onClosed()
  }
}
