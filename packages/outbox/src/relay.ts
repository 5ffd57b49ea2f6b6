import { toError } from '@switchyard/core'
import { claimBatch, markFailed, markSent } from './claim.js'
import { sleep } from './driver.js'
import { type RelayOptions, type ResolvedRelayOptions, resolveRelayOptions } from './options.js'
import { type PublishOutcome, publishRows } from './publish.js'

/** What one claim-publish-mark transaction did. */
export interface BatchResult {
  /** Rows claimed. */
  claimed: number
  /** Rows published and marked sent. */
  published: number
  /** Rows that failed and wait for a retry. */
  failed: number
  /** Rows parked. */
  parked: number
  /** Nothing was claimed because other relays hold the lanes with work: try again soon. */
  contended: boolean
}

/** Counters since the relay was created. */
export interface RelayStats {
  /** Claim transactions committed. */
  batches: number
  claimed: number
  published: number
  failed: number
  parked: number
  /** Sent rows deleted by retention cleanup. */
  cleaned: number
}

// A relay that found only lanes held by others retries after this instead of the poll interval.
const CONTENDED_DELAY_MS = 20

/**
 * Publishes outbox rows through the bus: claims a batch (`FOR UPDATE SKIP LOCKED`), publishes it
 * with `publishBatch`, marks it sent in the same transaction. Wakes on the insert trigger's
 * `NOTIFY` and on a poll interval. Run as many as you like, in as many processes.
 */
export class OutboxRelay implements AsyncDisposable {
  private readonly options: ResolvedRelayOptions
  private readonly counters: RelayStats = {
    batches: 0,
    claimed: 0,
    published: 0,
    failed: 0,
    parked: 0,
    cleaned: 0,
  }
  private controller: AbortController | undefined
  private loopDone: Promise<void> | undefined
  private unlisten: (() => Promise<void>) | undefined
  private wakeUp: (() => void) | undefined
  private woken = false
  private turn: Promise<unknown> = Promise.resolve()
  private lastCleanup = 0

  /** @internal Use `createRelay`. */
  constructor(options: ResolvedRelayOptions) {
    this.options = options
  }

  /** True between `start()` and `stop()`. */
  get running(): boolean {
    return this.controller !== undefined
  }

  /** Starts listening for notifications and publishing in the background. Safe to call twice. */
  async start(): Promise<void> {
    if (this.controller !== undefined) return
    const controller = new AbortController()
    this.controller = controller
    const { driver, names } = this.options
    try {
      this.unlisten = await driver.listen(
        names.channel,
        () => this.wake(),
        (e) => this.report(e, 'listen'),
      )
    } catch (error) {
      this.controller = undefined
      throw error
    }
    this.loopDone = this.loop(controller.signal)
  }

  /** Stops: the batch in hand is published and marked, then the relay goes quiet. */
  async stop(): Promise<void> {
    const controller = this.controller
    if (controller === undefined) return
    controller.abort()
    this.wakeUp?.()
    await this.loopDone
    await this.unlisten?.().catch((e: unknown) => this.report(toError(e), 'listen'))
    this.unlisten = undefined
    this.controller = undefined
  }

  /** `await using relay = createRelay(...)` stops the relay at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop()
  }

  /** Runs one claim-publish-mark transaction now (serialised with the background loop). */
  runOnce(): Promise<BatchResult> {
    const run = this.turn.then(() => this.batch())
    this.turn = run.catch(() => undefined)
    return run
  }

  /** Runs batches until nothing is claimable (rows in backoff stay); resolves with rows published. */
  async drain(): Promise<number> {
    let published = 0
    for (;;) {
      const result = await this.runOnce()
      published += result.published
      if (result.claimed === 0 && !result.contended) return published
      if (result.claimed === 0) await sleep(CONTENDED_DELAY_MS)
    }
  }

  /** Counters since creation. */
  stats(): RelayStats {
    return { ...this.counters }
  }

  /** Age of the oldest unsent, unparked row in ms; 0 when the outbox is drained. */
  async lag(): Promise<number> {
    const { rows } = await this.options.driver.query(
      `SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)) * 1000, 0)::float8 AS ms
       FROM (SELECT created_at FROM ${this.options.names.table}
             WHERE sent_at IS NULL AND parked_at IS NULL ORDER BY seq LIMIT 1) oldest`,
    )
    return Math.max(0, (rows[0] as { ms: number }).ms)
  }

  /** Deletes sent rows older than `retentionMs`, in chunks; resolves with the count. */
  async cleanup(): Promise<number> {
    const { driver, names, retentionMs } = this.options
    let total = 0
    for (;;) {
      const { rows } = await driver.query(
        `WITH gone AS (
           DELETE FROM ${names.table} WHERE seq IN (
             SELECT seq FROM ${names.table}
             WHERE sent_at < now() - $1::float8 * interval '1 millisecond' LIMIT 5000)
           RETURNING 1)
         SELECT count(*)::int AS n FROM gone`,
        [retentionMs],
      )
      const n = (rows[0] as { n: number }).n
      total += n
      if (n < 5000) break
    }
    this.counters.cleaned += total
    return total
  }

  private async batch(): Promise<BatchResult> {
    const o = this.options
    let outcome: PublishOutcome | undefined
    const claim = await o.driver.transaction(async (tx) => {
      const claim = await claimBatch(tx, o.names, o)
      if (claim.rows.length === 0) return claim
      this.hook(() => o.hooks.onClaimed?.({ count: claim.rows.length }))
      outcome = await publishRows(claim.rows, o)
      await markSent(tx, o.names, outcome.sent, o.retentionMs > 0)
      await markFailed(tx, o.names, outcome.failures)
      return claim
    })
    const claimed = claim.rows.length
    const contended = claimed === 0 && claim.lanesSeen > claim.lanesHeld
    if (outcome === undefined) return { claimed, published: 0, failed: 0, parked: 0, contended }
    const done = outcome
    const parked = done.parked.reduce((n, p) => n + p.ids.length, 0)
    const failed = done.failures.length - parked
    Object.assign(this.counters, {
      batches: this.counters.batches + 1,
      claimed: this.counters.claimed + claimed,
      published: this.counters.published + done.sent.length,
      failed: this.counters.failed + failed,
      parked: this.counters.parked + parked,
    })
    if (done.sent.length > 0)
      this.hook(() => o.hooks.onPublished?.({ count: done.sent.length, topics: done.topics }))
    for (const f of done.failed) this.hook(() => o.hooks.onFailed?.(f))
    for (const p of done.parked) this.hook(() => o.hooks.onParked?.(p))
    return { claimed, published: done.sent.length, failed, parked, contended }
  }

  private async loop(signal: AbortSignal): Promise<void> {
    let errors = 0
    while (!signal.aborted) {
      this.woken = false
      let result: BatchResult
      try {
        result = await this.runOnce()
        errors = 0
      } catch (error) {
        // Database gone (restart, failover): back off and try again until stopped.
        this.report(toError(error), 'claim')
        await sleep(Math.min(5_000, 100 * 2 ** errors++), signal)
        continue
      }
      await this.maybeCleanup()
      if (signal.aborted || result.claimed > 0 || this.woken) continue
      await this.idle(result.contended ? CONTENDED_DELAY_MS : this.options.pollIntervalMs, signal)
    }
  }

  private async maybeCleanup(): Promise<void> {
    const { retentionMs, cleanupIntervalMs } = this.options
    if (retentionMs === 0 || Date.now() - this.lastCleanup < cleanupIntervalMs) return
    this.lastCleanup = Date.now()
    await this.cleanup().catch((e: unknown) => this.report(toError(e), 'cleanup'))
  }

  private idle(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        this.wakeUp = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal.addEventListener('abort', done, { once: true })
      this.wakeUp = done
    })
  }

  private wake(): void {
    this.woken = true
    this.wakeUp?.()
  }

  private report(error: Error, where: string): void {
    this.hook(() => this.options.hooks.onError?.(error, where))
  }

  private hook(call: () => void): void {
    try {
      call()
    } catch {
      // Hooks observe; a failing hook must not stop publishing.
    }
  }
}

/**
 * Creates a relay. Call `start()` to run it in the background, or `drain()` to publish what is
 * there now.
 * @example
 * const relay = createRelay({ driver: pgDriver({ connectionString }), bus })
 * await relay.start()
 * // ... on shutdown
 * await relay.stop()
 * @throws {ConfigurationError} for unknown options, out-of-range numbers or a missing driver/bus.
 */
export function createRelay(options: RelayOptions): OutboxRelay {
  return new OutboxRelay(resolveRelayOptions(options))
}
