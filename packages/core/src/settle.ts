/** Where a failed ack or nack is reported. */
export interface SettleReporter {
  report(error: unknown, where: string): void
}

/**
 * Runs an ack or nack; a failure is reported, never thrown. A promise only for an async one, so
 * a transport that settles synchronously costs no promise per event.
 */
export function settleQuietly(
  action: () => void | Promise<void>,
  reporter: SettleReporter,
  where: string,
): Promise<void> | undefined {
  try {
    const pending = action()
    if (pending !== undefined) {
      return pending.then(undefined, (error: unknown) => reporter.report(error, where))
    }
  } catch (error) {
    reporter.report(error, where)
  }
  return undefined
}

/** Calls a user hook; hooks observe, and one that throws must not break delivery. */
export function quietly(call: () => void): void {
  try {
    call()
  } catch {
    // Swallowed on purpose: see above.
  }
}
