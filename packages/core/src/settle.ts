import type { InboundMessage } from './transport.js'

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

const settled = { value: () => undefined }

/**
 * At-most-once: acknowledges the message before anything handles it, then runs `handle` with a
 * copy whose ack and nack do nothing, on its first handling attempt whatever its delivery count.
 * When the acknowledgement fails the message is not handled here (the broker delivers it again,
 * and it is handled then).
 */
export async function settleOnReceipt(
  message: InboundMessage,
  handle: (message: InboundMessage) => Promise<void> | undefined,
  report: (error: unknown) => void,
): Promise<void> {
  try {
    await message.ack()
  } catch (error) {
    report(error)
    return
  }
  // A copy over the original keeps whatever the transport defined on it (accessors included).
  // Redelivered means never acknowledged, so never handled: this is its first handling attempt.
  const copy = { ack: settled, nack: settled, attempt: { value: 1 } }
  await handle(Object.create(message, copy) as InboundMessage)
}
