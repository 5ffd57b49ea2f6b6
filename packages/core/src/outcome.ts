/** What became of one handling attempt. Handlers usually return nothing (success) or throw. */
export type Outcome =
  | { readonly kind: 'success' }
  | {
      readonly kind: 'retry'
      readonly delayMs: number | undefined
      readonly error: Error | undefined
    }
  | { readonly kind: 'dead-letter'; readonly reason: string; readonly error: Error | undefined }
  | { readonly kind: 'drop'; readonly reason: string | undefined }

const SUCCESS: Outcome = Object.freeze({ kind: 'success' })

/**
 * Explicit handler outcomes. Return one from a handler to steer delivery without throwing.
 * @example
 * bus.subscribe('orders', async ({ event }) => {
 *   if (!event.data) return outcome.deadLetter('order without body')
 *   if (await locked(event.subject)) return outcome.retry({ delayMs: 2_000 })
 * })
 */
export const outcome = {
  /** Handled: acknowledge. */
  success: (): Outcome => SUCCESS,
  /** Try again later; the delay defaults to the subscription's backoff for this attempt. */
  retry: (options: { delayMs?: number; error?: Error } = {}): Outcome => ({
    kind: 'retry',
    delayMs: options.delayMs,
    error: options.error,
  }),
  /** Send to the dead-letter destination now, with a reason, and acknowledge. */
  deadLetter: (reason: string, error?: Error): Outcome => ({ kind: 'dead-letter', reason, error }),
  /** Acknowledge without handling (e.g. an event this service ignores). */
  drop: (reason?: string): Outcome => ({ kind: 'drop', reason }),
} as const

/** True when a handler returned one of `outcome.*`. */
export function isOutcome(value: unknown): value is Outcome {
  if (value === null || typeof value !== 'object') return false
  const kind = (value as { kind?: unknown }).kind
  return kind === 'success' || kind === 'retry' || kind === 'dead-letter' || kind === 'drop'
}

/**
 * What a handler's return value means at this attempt: an explicit outcome, else success; a
 * retry asked for after the last of `maxAttempts` becomes a dead letter.
 */
export function outcomeOf(value: unknown, attempt: number, maxAttempts: number): Outcome {
  if (!isOutcome(value)) return SUCCESS
  if (value.kind === 'retry' && attempt >= maxAttempts) {
    return {
      kind: 'dead-letter',
      reason: `retry requested after the last of ${maxAttempts} attempts`,
      error: value.error,
    }
  }
  return value
}
