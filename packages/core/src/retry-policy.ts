import { ConfigurationError, SwitchyardError } from './errors.js'
import { checkKeys, checkNumber } from './options.js'

/** Maps a 1-based attempt number to the delay before the next attempt, in ms. */
export type Backoff = (attempt: number) => number

/** Options of `exponential()`. */
export interface ExponentialBackoffOptions {
  /** Delay after the first failure. @default 100 */
  baseMs?: number
  /** Upper bound of any delay. @default 30_000 */
  maxMs?: number
  /** Growth per attempt. @default 2 */
  factor?: number
  /**
   * Randomisation: `true` takes up to half the delay off at random (equal jitter), a number in
   * [0, 1] takes up to that share off, `false` keeps delays exact.
   * @default true
   */
  jitter?: boolean | number
}

/**
 * Exponential backoff with jitter: `min(maxMs, baseMs * factor^(attempt-1))`, minus jitter.
 * @example retry: { maxAttempts: 5, backoff: exponential({ baseMs: 100, maxMs: 30_000 }) }
 */
export function exponential(options: ExponentialBackoffOptions = {}): Backoff {
  checkKeys(options, ['baseMs', 'maxMs', 'factor', 'jitter'], 'exponential')
  const baseMs = checkNumber(options.baseMs ?? 100, 'exponential.baseMs', { min: 0 })
  const maxMs = checkNumber(options.maxMs ?? 30_000, 'exponential.maxMs', { min: baseMs })
  const factor = checkNumber(options.factor ?? 2, 'exponential.factor', { min: 1 })
  const jitter = options.jitter === undefined || options.jitter === true ? 0.5 : options.jitter || 0
  checkNumber(jitter, 'exponential.jitter', { min: 0, max: 1 })
  return (attempt) => {
    const raw = Math.min(maxMs, baseMs * factor ** Math.max(0, attempt - 1))
    return Math.round(raw - raw * jitter * Math.random())
  }
}

/** A fixed delay between attempts. */
export function constant(delayMs: number): Backoff {
  checkNumber(delayMs, 'constant.delayMs', { min: 0 })
  return () => delayMs
}

/** Error classes, matched with `instanceof`. */
// biome-ignore lint/suspicious/noExplicitAny: constructors of any signature are accepted
export type ErrorClass = abstract new (...args: any[]) => Error

/** Retry settings of a subscription. */
export interface RetryOptions {
  /** Attempts in all, counting the first, in-process retries and broker redeliveries. @default 3 */
  maxAttempts?: number
  /** Delay before each retry. @default exponential() */
  backoff?: Backoff
  /** Return false to dead-letter an error at once. Runs after `nonRetryable`. */
  retryIf?: (error: Error, attempt: number) => boolean
  /** Errors of these classes go straight to the dead-letter destination. */
  nonRetryable?: readonly ErrorClass[]
  /**
   * Retries due within this many ms wait in the process, keeping per-key order; longer ones
   * go back to the broker (`nack` with delay) and free the lane.
   * @default 1_000
   */
  inProcessMaxDelayMs?: number
}

/** Resolved retry settings with the decision function. */
export interface RetryPolicy {
  readonly maxAttempts: number
  readonly inProcessMaxDelayMs: number
  /** Decides what follows a failure at `attempt`: a retry after `delayMs`, or dead-letter. */
  decide(
    error: Error,
    attempt: number,
  ): { retry: true; delayMs: number } | { retry: false; reason: string }
  /** Delay for an explicit `outcome.retry()` without its own delay. */
  delayFor(attempt: number): number
}

/** Builds a retry policy from options, validating them. */
export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  checkKeys(
    options,
    ['maxAttempts', 'backoff', 'retryIf', 'nonRetryable', 'inProcessMaxDelayMs'],
    'retry',
  )
  const maxAttempts = checkNumber(options.maxAttempts ?? 3, 'retry.maxAttempts', {
    min: 1,
    integer: true,
  })
  const inProcessMaxDelayMs = checkNumber(
    options.inProcessMaxDelayMs ?? 1_000,
    'retry.inProcessMaxDelayMs',
    {
      min: 0,
    },
  )
  const backoff = options.backoff ?? exponential()
  if (typeof backoff !== 'function') {
    throw new ConfigurationError('retry.backoff must be a function (attempt) => ms', {
      field: 'retry.backoff',
    })
  }
  const nonRetryable = options.nonRetryable ?? []
  const retryIf = options.retryIf
  const delayFor = (attempt: number) => Math.max(0, backoff(attempt))
  return {
    maxAttempts,
    inProcessMaxDelayMs,
    delayFor,
    decide(error, attempt) {
      if (error instanceof SwitchyardError && !error.retryable) {
        return { retry: false, reason: `${error.name} is not retryable` }
      }
      if (nonRetryable.some((cls) => error instanceof cls)) {
        return { retry: false, reason: `${error.name} is marked non-retryable` }
      }
      if (retryIf !== undefined && !retryIf(error, attempt)) {
        return { retry: false, reason: 'retryIf returned false' }
      }
      if (attempt >= maxAttempts) {
        return {
          retry: false,
          reason: `gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}`,
        }
      }
      return { retry: true, delayMs: delayFor(attempt) }
    },
  }
}
