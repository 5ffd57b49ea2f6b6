import { TimeoutError } from './errors.js'

/**
 * Resolves after `ms`: `true` when the time ran out, `false` at once when `signal` aborted
 * (before or during the wait). Timers are cleared on abort, so a closing component leaves none.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false)
  if (ms <= 0) return Promise.resolve(true)
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer)
      resolve(false)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve(true)
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Settles like `promise`, or rejects with a `TimeoutError` ("<what> got no answer within <ms>
 * ms") once `ms` pass. The timer is cleared either way. For a bounded wait that must not throw
 * (draining at close), add `.catch(() => undefined)`.
 */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what = 'the operation',
): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TimeoutError(`${what} got no answer within ${ms} ms`, { timeoutMs: ms })),
      ms,
    )
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Counts operations under way and lets a closing component wait until none is. */
export class InFlight {
  private running = 0
  private waiters: Array<() => void> = []

  /** Operations under way now. */
  get count(): number {
    return this.running
  }

  /** One more operation started. */
  enter(): void {
    this.running++
  }

  /** One operation finished. */
  leave(): void {
    if (--this.running === 0) for (const resolve of this.waiters.splice(0)) resolve()
  }

  /** Counts `promise` while it runs and returns it. */
  track<T>(promise: Promise<T>): Promise<T> {
    this.enter()
    return promise.finally(() => this.leave())
  }

  /** Resolves once nothing is under way, waiting again for any that started meanwhile. */
  async idle(): Promise<void> {
    while (this.running > 0) await new Promise<void>((resolve) => this.waiters.push(resolve))
  }
}
