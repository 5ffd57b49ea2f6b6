import { SwitchyardError, TimeoutError } from '@switchyard/core'

/**
 * A circuit breaker is open: the call was refused without trying, because the calls before it
 * kept failing. Retryable: try again after `retryAfterMs`, when the breaker lets a probe through.
 */
export class CircuitOpenError extends SwitchyardError {
  /** Milliseconds until the breaker lets a probe call through (0 when it already would). */
  readonly retryAfterMs: number
  /** The breaker's `name`, for logs and metrics. */
  readonly breaker: string

  constructor(
    message: string,
    options: { retryAfterMs: number; breaker: string; cause?: unknown },
  ) {
    super(message, { code: 'ERR_CIRCUIT_OPEN', retryable: true, cause: options.cause })
    this.retryAfterMs = options.retryAfterMs
    this.breaker = options.breaker
  }
}

/**
 * A rate limit refused the call (a limiter in `mode: 'fail'`, or a wait longer than its
 * `maxWaitMs`). Retryable after `retryAfterMs`.
 */
export class RateLimitedError extends SwitchyardError {
  /** Milliseconds until the limiter would let this call through. */
  readonly retryAfterMs: number
  /** The tenant whose limit was hit, for a per-tenant limiter. */
  readonly tenant: string | undefined

  constructor(message: string, options: { retryAfterMs: number; tenant?: string }) {
    super(message, { code: 'ERR_RATE_LIMITED', retryable: true })
    this.retryAfterMs = options.retryAfterMs
    this.tenant = options.tenant
  }
}

/**
 * A handler ran past the guard's `timeoutMs`. A core `TimeoutError` (so `retryable`): the
 * subscription's retry policy retries the event or dead-letters it once the attempts run out.
 * The handler itself is not stopped (JavaScript cannot stop a running function); its
 * `ctx.signal` aborted at the deadline.
 */
export class HandlerTimeoutError extends TimeoutError {
  /** Topic of the event whose handler timed out. */
  readonly topic: string
  /** Consumer group of that handler. */
  readonly group: string

  constructor(options: { timeoutMs: number; topic: string; group: string; eventId: string }) {
    super(
      `Handler for event ${options.eventId} on "${options.topic}" (group "${options.group}") ran past ${options.timeoutMs} ms; it counts as a failed attempt. Make it finish sooner, watch ctx.signal, or raise timeoutMs.`,
      { timeoutMs: options.timeoutMs },
    )
    this.topic = options.topic
    this.group = options.group
  }
}
