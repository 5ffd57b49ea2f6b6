import { ConfigurationError } from './errors.js'
import { checkKeys, checkNumber } from './options.js'
import { type Backoff, exponential } from './retry-policy.js'

/** Options of the bus's `publishRetry`. */
export interface PublishRetryOptions {
  /** Attempts in all, the first included. @default 3 */
  maxAttempts?: number
  /** Delay before each retry. @default exponential({ baseMs: 100, maxMs: 2_000 }) */
  backoff?: Backoff
}

/** The resolved publish retry policy: the delay before attempt `attempt + 1`, or undefined to give up. */
export type PublishRetryPolicy = (error: unknown, attempt: number) => number | undefined

/**
 * One publish retry policy for every transport: an adapter only says whether an error is worth
 * another try (`retryable` on a `SwitchyardError`); the bus decides how often and how late.
 * @throws {ConfigurationError} for unknown options or an out-of-range attempt count.
 */
export function publishRetry(options: PublishRetryOptions | false | undefined): PublishRetryPolicy {
  if (options === false) return () => undefined
  checkKeys(options, ['maxAttempts', 'backoff'], 'publishRetry')
  const maxAttempts = checkNumber(options?.maxAttempts ?? 3, 'publishRetry.maxAttempts', {
    min: 1,
    integer: true,
  })
  const backoff = options?.backoff ?? exponential({ baseMs: 100, maxMs: 2_000 })
  if (typeof backoff !== 'function') {
    throw new ConfigurationError('publishRetry.backoff must be a function such as exponential()', {
      field: 'publishRetry.backoff',
    })
  }
  return (error, attempt) => {
    if (attempt >= maxAttempts) return undefined
    // Read as a property: a second copy of core in node_modules still marks its errors.
    if ((error as { retryable?: unknown } | null)?.retryable !== true) return undefined
    return Math.max(0, backoff(attempt))
  }
}
