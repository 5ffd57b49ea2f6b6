/**
 * A structured logger, pino-compatible: each method takes an object of fields and a message.
 * Pass a pino instance, a child of one, or any object with these four methods.
 */
export interface Logger {
  /** Detail useful when debugging. */
  debug(fields: Record<string, unknown>, message?: string): void
  /** Lifecycle events: connected, subscribed, closed. */
  info(fields: Record<string, unknown>, message?: string): void
  /** Something went wrong and was handled: a retry, a dead letter, a reconnect. */
  warn(fields: Record<string, unknown>, message?: string): void
  /** Something went wrong and was not handled by a hook. */
  error(fields: Record<string, unknown>, message?: string): void
}

/** A logger that drops everything; for tests and for users who observe through hooks only. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
}
