import type { Middleware } from '@switchyard/core'
import { type BreakerOptions, type BreakerState, CircuitBreaker } from './breaker.js'

/** Publish middleware with a circuit breaker; made by `publishBreaker`. */
export interface PublishBreaker extends Middleware {
  /** The breaker (state, `onStateChange`, `retryAfterMs`). */
  readonly breaker: CircuitBreaker
  /** The breaker's state. */
  readonly state: BreakerState
}

/**
 * Publish middleware that fails fast while the broker keeps failing: after the configured
 * failures (retryable publish errors, after the bus's own `publishRetry`) it opens, and every
 * publish is refused at once with a retryable `CircuitOpenError` carrying `retryAfterMs`. After
 * `halfOpenAfterMs` one publish probes; its success closes the breaker.
 * @throws {ConfigurationError} for unknown or out-of-range options.
 * @example
 * const breaker = publishBreaker({ consecutiveFailures: 3, halfOpenAfterMs: 5_000 })
 * const bus = createEventBus({ transport, middleware: [breaker] })
 */
export function publishBreaker(options: BreakerOptions = {}): PublishBreaker {
  const breaker = new CircuitBreaker(options, 'publish', 'publishBreaker')
  return {
    name: 'publishBreaker',
    breaker,
    get state() {
      return breaker.state
    },
    publish: (_ctx, next) => breaker.execute(next),
  }
}
