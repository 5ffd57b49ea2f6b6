import { toError } from '@switchyard/core'
import { cleanupSent, outboxLag } from './admin.js'
import { type BatchResult, runBatch } from './batch.js'
import { sleep } from './driver.js'
import { type RelayOptions, type ResolvedRelayOptions, resolveRelayOptions } from './options.js'

/** Counters since the relay was created. */
export interface RelayStats {
  /** Claim transactions that committed with rows in them. */
  batches: number
  /** Rows claimed. */
  claimed: number
  /** Rows published and marked sent. */
  published: number
  /** Failed publish attempts that will be retried. */
  failed: number
  /** Rows parked. */
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
  private workers: Promise<void>[] = []
  private unlisten: (() => Promise<void>) | undefined
  private readonly sleepers = new Set<() => void>()
  private wakes = 0
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
    const { driver, names, concurrency } = this.options
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
    this.workers = Array.from({ length: concurrency }, () => this.work(controller.signal))
  }

  /** Stops: the batches in hand are published and marked, then the relay goes quiet. */
  async stop(): Promise<void> {
    const controller = this.controller
    if (controller === undefined) return
    controller.abort()
    await Promise.all(this.workers)
    await this.unlisten?.().catch((e: unknown) => this.report(toError(e), 'listen'))
    this.unlisten = undefined
    this.workers = []
    this.controller = undefined
  }

  /** `await using relay = createRelay(...)` stops the relay at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop()
  }

  /** Runs one claim-publish-mark transaction now; calls are serialised with each other. */
  runOnce(): Promise<BatchResult> {
    const run = this.turn.then(() => this.batch())
    this.turn = run.catch(() => undefined)
    return run
  }

  /**
   * Publishes what is claimable now, with `concurrency` transactions at a time, and resolves with
   * the number of rows published. Rows waiting in backoff stay.
   */
  async drain(): Promise<number> {
    const one = async () => {
      let published = 0
      for (;;) {
        const result = await this.batch()
        published += result.published
        if (result.claimed === 0 && !result.contended) return published
        if (result.claimed === 0) await sleep(CONTENDED_DELAY_MS)
      }
    }
    const counts = await Promise.all(Array.from({ length: this.options.concurrency }, one))
    return counts.reduce((a, b) => a + b, 0)
  }

  /** Counters since creation. */
  stats(): RelayStats {
    return { ...this.counters }
  }

  /** Age in ms of the oldest unsent row, parked rows included (see `outboxLag`); 0 when drained. */
  lag(): Promise<number> {
    return outboxLag(this.options.driver, { table: this.options.table })
  }

  /** Deletes sent rows older than `retentionMs` now; resolves with the count. */
  async cleanup(): Promise<number> {
    const { driver, table, retentionMs } = this.options
    const n = await cleanupSent(driver, { table, retentionMs })
    this.counters.cleaned += n
    return n
  }

  private async batch(): Promise<BatchResult> {
    const { hooks } = this.options
    const done = await runBatch(
      this.options,
      (count) => this.hook(() => hooks.onClaimed?.({ count })),
      (lost) => this.report(lost, 'claim-connection'),
    )
    const { outcome, ...result } = done
    if (outcome === undefined) return result
    const c = this.counters
    c.batches++
    c.claimed += result.claimed
    c.published += result.published
    c.failed += result.failed
    c.parked += result.parked
    if (result.published > 0)
      this.hook(() => hooks.onPublished?.({ count: result.published, topics: outcome.topics }))
    const log = this.options.logger
    for (const f of outcome.failed) {
      if (hooks.onFailed !== undefined) this.hook(() => hooks.onFailed?.(f))
      else
        log.warn(
          { topic: f.topic, count: f.count, error: describe(f.error) },
          'outbox: publishing failed; the rows are retried after their backoff',
        )
    }
    for (const p of outcome.parked) {
      if (hooks.onParked !== undefined) this.hook(() => hooks.onParked?.(p))
      else
        log.warn(
          { ids: p.ids, error: describe(p.error) },
          'outbox: rows parked; see listParked(), requeueParked() and deleteParked()',
        )
    }
    return result
  }

  private async work(signal: AbortSignal): Promise<void> {
    let errors = 0
    while (!signal.aborted) {
      const wakes = this.wakes
      let result: BatchResult
      try {
        result = await this.batch()
        if (errors > 0 && this.options.hooks.onError === undefined)
          this.options.logger.info({ failures: errors }, 'outbox: the database answers again')
        errors = 0
      } catch (error) {
        // Database gone (restart, failover): back off and try again until stopped.
        this.report(toError(error), 'claim', { failures: errors + 1 })
        await sleep(Math.min(5_000, 100 * 2 ** errors++), signal)
        continue
      }
      await this.maybeCleanup()
      if (signal.aborted || result.claimed > 0 || this.wakes !== wakes) continue
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
        this.sleepers.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal.addEventListener('abort', done, { once: true })
      this.sleepers.add(done)
    })
  }

  private wake(): void {
    this.wakes++
    for (const wake of [...this.sleepers]) wake()
  }

  private report(error: Error, where: string, fields: Record<string, unknown> = {}): void {
    const { hooks, logger } = this.options
    if (hooks.onError !== undefined) {
      this.hook(() => hooks.onError?.(error, where))
      return
    }
    const entry = { where, error: describe(error), ...fields }
    // Without its database the relay publishes nothing: that is an error. The rest it survives.
    if (where === 'claim') logger.error(entry, 'outbox: the relay cannot reach its database')
    else if (where === 'claim-connection') logger.warn(entry, `outbox: ${error.message}`)
    else logger.warn(entry, `outbox: ${where} failed`)
  }

  private hook(call: () => void): void {
    try {
      call()
    } catch {
      // Hooks observe; a failing hook must not stop publishing.
    }
  }
}

/** `Name: message`, without the stack, for a log line. */
function describe(error: Error): string {
  return `${error.name}: ${error.message}`
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
