import type { DeadLetterEntry } from './dead-letter-entry.js'
import { checkLogger, consoleLogger, errorFields, type Logger } from './logger.js'

/** The bus's logger: the one given (checked), else the console at `warn`. */
export function resolveLogger(logger: Logger | undefined): Logger {
  return checkLogger(logger, 'logger') ?? consoleLogger('warn')
}

/** The hooks of `BusHooks` that report failures (typed here so this file needs no bus import). */
interface FailureHooks {
  onDeadLetter?(entry: DeadLetterEntry): void
  onError?(error: Error, where: string): void
}

/**
 * The hooks with a logging default for every failure no hook handles: a dead letter is a
 * `warn`, an error outside a handler is a `warn` when it is retryable (a lost connection the
 * client rides out, a publish being retried) and an `error` when not. A hook the user set
 * replaces the log line: it handles the failure.
 */
export function loudHooks<H extends FailureHooks>(hooks: H, logger: Logger): H {
  const loud: H = { ...hooks }
  loud.onDeadLetter ??= (entry) =>
    logger.warn(
      {
        topic: entry.topic,
        group: entry.group,
        eventId: entry.event?.id,
        eventType: entry.event?.type,
        attempts: entry.attempts,
        reason: entry.reason,
        error: { name: entry.error.name, message: entry.error.message },
      },
      `switchyard: event dead-lettered from "${entry.topic}" (group "${entry.group}"): ${entry.reason}`,
    )
  loud.onError ??= (error, where) => {
    const retryable = (error as { retryable?: unknown }).retryable === true
    const fields = { where, ...errorFields(error) }
    const message = `switchyard: ${where}: ${error.message}`
    if (retryable) logger.warn(fields, message)
    else logger.error(fields, message)
  }
  return loud
}
