import { ConfigurationError, toError } from '@switchyard/core'
import { checkKeys, checkNumber } from '@switchyard/core/transport'
import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  SamplingBreaker,
} from 'cockatiel'
import { CircuitOpenError } from './errors.js'

/**
 * Where a breaker stands: `closed` (calls go through), `open` (calls are refused or held until
 * `halfOpenAfterMs` passed), `half-open` (the next call is a probe: its success closes the
 * breaker, its failure opens it again).
 */
export type BreakerState = 'closed' | 'open' | 'half-open'

/** A state change, as `onStateChange` receives it. */
export interface BreakerStateChange {
  /** The breaker's `name`. */
  readonly breaker: string
  /** The state it entered. */
  readonly state: BreakerState
  /** The state it left. */
  readonly previous: BreakerState
  /** The failure that opened it (for `open`). */
  readonly error?: Error
}

/** When a breaker opens, and for how long. Give one of `consecutiveFailures` or `sampling`. */
export interface BreakerOptions {
  /** Shown in errors and state changes. @default 'handler' or 'publish' */
  name?: string
  /** Opens after this many failures in a row (cockatiel's `ConsecutiveBreaker`). @default 5 */
  consecutiveFailures?: number
  /**
   * Opens when the share of failed calls in a sliding window passes `threshold` (cockatiel's
   * `SamplingBreaker`): `{ threshold: 0.5, durationMs: 10_000, minimumRps: 5 }`.
   */
  sampling?: { threshold: number; durationMs: number; minimumRps?: number }
  /** How long an open breaker waits before a probe. @default 10000 */
  halfOpenAfterMs?: number
  /**
   * Which errors count as failures. @default errors not marked `retryable: false` (a failed
   * validation or decode says nothing about the health of what is behind the call)
   */
  isFailure?: (error: Error) => boolean
  /** Called on every state change; a throwing listener is ignored. */
  onStateChange?: (change: BreakerStateChange) => void
}

const KEYS = [
  'name',
  'consecutiveFailures',
  'sampling',
  'halfOpenAfterMs',
  'isFailure',
  'onStateChange',
]

/** True for errors that may pass on a retry: the default `isFailure`. */
export function countsAsFailure(error: Error): boolean {
  return (error as { retryable?: unknown }).retryable !== false
}

/**
 * A circuit breaker: cockatiel's state machine, with this package's state names, events and
 * `CircuitOpenError`. The `half-open` state is entered on a timer `halfOpenAfterMs` after
 * opening (cockatiel itself only moves on the next call), so listeners can resume work before a
 * probe is made.
 */
export class CircuitBreaker {
  /** The breaker's name. */
  readonly name: string
  /** Milliseconds an open breaker waits before a probe. */
  readonly halfOpenAfterMs: number
  private readonly policy: CircuitBreakerPolicy
  private readonly listeners: Array<(change: BreakerStateChange) => void> = []
  private current: BreakerState = 'closed'
  private openedAt = 0
  private timer: NodeJS.Timeout | undefined
  private waiters: Array<() => void> = []

  /** Refusals this breaker made, to tell them from a `CircuitOpenError` thrown behind it. */
  private readonly refusals = new WeakSet<Error>()

  /**
   * @param failedResult which results (not errors) count as failures, e.g. `outcome.retry()`
   * @internal Made by `handlerGuard` and `publishBreaker`.
   */
  constructor(
    options: BreakerOptions,
    defaultName: string,
    path: string,
    failedResult?: (result: unknown) => boolean,
  ) {
    checkKeys(options, KEYS, path)
    this.name = options.name ?? defaultName
    this.halfOpenAfterMs = checkNumber(
      options.halfOpenAfterMs ?? 10_000,
      `${path}.halfOpenAfterMs`,
      {
        min: 0,
      },
    )
    const isFailure = options.isFailure ?? countsAsFailure
    if (typeof isFailure !== 'function') {
      throw new ConfigurationError(`${path}.isFailure must be a function`, {
        field: `${path}.isFailure`,
      })
    }
    // A handler may throw anything (a string, null): the predicate always gets an Error.
    const filter = handleWhen((error) => isFailure(toError(error)))
    this.policy = circuitBreaker(failedResult ? filter.orWhenResult(failedResult) : filter, {
      breaker: makeBreaker(options, path),
      halfOpenAfter: this.halfOpenAfterMs,
    })
    if (options.onStateChange !== undefined) {
      if (typeof options.onStateChange !== 'function') {
        throw new ConfigurationError(`${path}.onStateChange must be a function`, {
          field: `${path}.onStateChange`,
        })
      }
      this.listeners.push(options.onStateChange)
    }
    this.policy.onBreak((reason) => {
      this.openedAt = Date.now()
      const error = 'error' in reason ? reason.error : undefined
      this.enter('open', error)
      clearTimeout(this.timer)
      // The probe becomes possible by the clock, not by a call: say so when it does. unref: an
      // open breaker alone must not keep a process alive.
      this.timer = setTimeout(() => this.enter('half-open'), this.halfOpenAfterMs + 1)
      this.timer.unref()
    })
    this.policy.onReset(() => this.enter('closed'))
    this.policy.onStateChange((state) => {
      if (state === CircuitState.HalfOpen) this.enter('half-open')
    })
  }

  /** Where the breaker stands now. */
  get state(): BreakerState {
    return this.current
  }

  /** Milliseconds until an open breaker lets a probe through; 0 unless open. */
  get retryAfterMs(): number {
    if (this.current !== 'open') return 0
    return Math.max(0, this.openedAt + this.halfOpenAfterMs - Date.now())
  }

  /** Adds a state-change listener; returns a function that removes it. */
  onStateChange(listener: (change: BreakerStateChange) => void): () => void {
    this.listeners.push(listener)
    return () => {
      const i = this.listeners.indexOf(listener)
      if (i >= 0) this.listeners.splice(i, 1)
    }
  }

  /**
   * Runs `fn` through the breaker.
   * @throws {CircuitOpenError} while the breaker is open (or a probe just failed).
   */
  async execute<T>(fn: () => T | PromiseLike<T>): Promise<T> {
    if (this.current === 'open') throw this.openError()
    try {
      return await this.policy.execute(fn)
    } catch (error) {
      if (error instanceof BrokenCircuitError) throw this.openError(error)
      throw error
    }
  }

  /**
   * Resolves once the breaker is no longer `open` (`true`), or when `signal` aborts (`false`).
   * Used to hold a call back instead of refusing it.
   */
  whenNotOpen(signal?: AbortSignal): Promise<boolean> {
    if (this.current !== 'open') return Promise.resolve(true)
    if (signal?.aborted) return Promise.resolve(false)
    return new Promise((resolve) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(wake)
        if (i >= 0) this.waiters.splice(i, 1)
        resolve(false)
      }
      const wake = () => {
        signal?.removeEventListener('abort', onAbort)
        resolve(true)
      }
      this.waiters.push(wake)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** True when `error` is a refusal of this breaker (not an error of the call it guarded). */
  refused(error: unknown): boolean {
    return error instanceof CircuitOpenError && this.refusals.has(error)
  }

  private openError(cause?: unknown): CircuitOpenError {
    const retryAfterMs = this.retryAfterMs
    const error = new CircuitOpenError(
      `Circuit breaker "${this.name}" is open after repeated failures; calls are refused for another ${retryAfterMs} ms, then one probe is let through`,
      { retryAfterMs, breaker: this.name, cause },
    )
    this.refusals.add(error)
    return error
  }

  private enter(state: BreakerState, error?: Error): void {
    const previous = this.current
    if (previous === state) return
    this.current = state
    if (state !== 'open') {
      clearTimeout(this.timer)
      for (const wake of this.waiters.splice(0)) wake()
    }
    const change: BreakerStateChange =
      error === undefined
        ? { breaker: this.name, state, previous }
        : { breaker: this.name, state, previous, error }
    for (const listener of [...this.listeners]) {
      try {
        listener(change)
      } catch {
        // Listeners observe; they must not break the breaker.
      }
    }
  }
}

function makeBreaker(options: BreakerOptions, path: string): ConsecutiveBreaker | SamplingBreaker {
  if (options.sampling !== undefined) {
    if (options.consecutiveFailures !== undefined) {
      throw new ConfigurationError(`${path}: give consecutiveFailures or sampling, not both`, {
        field: `${path}.sampling`,
      })
    }
    const s = options.sampling
    checkKeys(s, ['threshold', 'durationMs', 'minimumRps'], `${path}.sampling`)
    return new SamplingBreaker({
      threshold: checkNumber(s.threshold, `${path}.sampling.threshold`, { min: 0, max: 1 }),
      duration: checkNumber(s.durationMs, `${path}.sampling.durationMs`, { min: 1 }),
      ...(s.minimumRps === undefined
        ? {}
        : { minimumRps: checkNumber(s.minimumRps, `${path}.sampling.minimumRps`, { min: 0 }) }),
    })
  }
  const n = checkNumber(options.consecutiveFailures ?? 5, `${path}.consecutiveFailures`, {
    min: 1,
    integer: true,
  })
  return new ConsecutiveBreaker(n)
}
