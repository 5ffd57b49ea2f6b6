import { errorFields } from '@switchyard/core/transport'
import type { StoreContext } from './context.js'

/** What one step of a follower did. */
export interface StepResult {
  /** The first position not yet handled. */
  nextPosition: number
  /** Whether the step reached the head (so the follower may wait for a notification). */
  caughtUp: boolean
}

/** How a follower reports failures it retries. */
export interface FollowerHooks {
  /** Called for every failure before the retry; errors it throws are ignored. */
  onError?(error: Error): void
}

interface Waiter {
  position: number
  resolve(): void
  reject(error: Error): void
}

/**
 * Runs `step` over the global order: again at once while it finds events, then on each
 * notification of a commit (`LISTEN`) or after `pollIntervalMs`, whichever comes first. A failed
 * step is logged, reported and retried after `retryDelayMs`; nothing is skipped.
 */
export class Follower {
  private position = 0
  private stopped = false
  private wake: (() => void) | undefined
  private notified = false
  private unlisten: (() => Promise<void>) | undefined
  private loop: Promise<void> | undefined
  private readonly waiters: Waiter[] = []
  private readonly caughtUpWaiters: Array<() => void> = []

  constructor(
    private readonly ctx: StoreContext,
    private readonly label: string,
    private readonly step: (from: number) => Promise<StepResult>,
    private readonly options: { retryDelayMs: number; hooks: FollowerHooks },
  ) {}

  /** The first position not yet handled. */
  get nextPosition(): number {
    return this.position
  }

  /** Starts listening and following from `from`. */
  async start(from: number): Promise<void> {
    this.position = from
    this.unlisten = await this.ctx.driver.listen(
      this.ctx.names.channel,
      () => this.ring(),
      (error) => this.report(error, 'listen'),
    )
    this.loop = this.run()
  }

  /** Resolves once every event up to `position` was handled. */
  waitFor(position: number): Promise<void> {
    if (this.position > position) return Promise.resolve()
    return new Promise((resolve, reject) => {
      this.waiters.push({ position, resolve, reject })
    })
  }

  /** Resolves the next time the follower reaches the head. */
  caughtUp(): Promise<void> {
    return new Promise((resolve) => this.caughtUpWaiters.push(resolve))
  }

  /** Stops after the step in progress; resolves when it ended. */
  async stop(): Promise<void> {
    if (this.stopped) return this.loop
    this.stopped = true
    this.ring()
    await this.unlisten?.()
    await this.loop
    for (const w of this.waiters.splice(0)) {
      w.reject(new Error(`${this.label} stopped before position ${w.position}`))
    }
    for (const resolve of this.caughtUpWaiters.splice(0)) resolve()
  }

  /** Whether `stop()` was called; steps check it between events. */
  get stopping(): boolean {
    return this.stopped
  }

  private ring(): void {
    this.notified = true
    this.wake?.()
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.notified = false
      let result: StepResult
      try {
        result = await this.step(this.position)
      } catch (error) {
        this.report(error as Error, 'step')
        await this.idle(this.options.retryDelayMs)
        continue
      }
      this.advance(result.nextPosition)
      if (result.caughtUp) {
        for (const resolve of this.caughtUpWaiters.splice(0)) resolve()
        // A notification that came in during the step means more may be committed already.
        if (!this.notified) await this.idle(this.ctx.pollIntervalMs)
      }
    }
  }

  /** Records progress made so far (also called by steps part way through a batch). */
  advance(nextPosition: number): void {
    if (nextPosition <= this.position) return
    this.position = nextPosition
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!
      if (w.position < nextPosition) {
        this.waiters.splice(i, 1)
        w.resolve()
      }
    }
  }

  private idle(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.wake = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.wake = done
    })
  }

  /** Logs and reports a failure; the caller retries. */
  report(error: Error, where: string): void {
    this.ctx.logger.warn(
      { ...errorFields(error), follower: this.label, where },
      `event-store: ${this.label} failed (${where}); retrying`,
    )
    try {
      this.options.hooks.onError?.(error)
    } catch {}
  }
}
