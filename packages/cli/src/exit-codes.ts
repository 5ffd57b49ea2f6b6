import { ConfigurationError, SwitchyardError } from '@switchyard/core'

/**
 * The exit codes of `switchyard`, stable so scripts can branch on them.
 * @example if (code === EXIT_CODES.notFound) console.log('no such topic')
 */
export const EXIT_CODES = Object.freeze({
  /** The command did what it was asked. */
  ok: 0,
  /** The command ran and failed (a broker refused a publish, a replay left entries behind). */
  failure: 1,
  /** Bad usage: an unknown option, a missing argument, malformed JSON, an unreadable URL. */
  usage: 2,
  /** The broker or database could not be reached, or refused the credentials. */
  connection: 3,
  /** What the command names does not exist (topic, group, dead-letter entry, event type). */
  notFound: 4,
  /** A check said no: data that fails its schema, an incompatible schema change. */
  invalid: 5,
  /** Stopped by Ctrl-C before it finished (`tail` ends with 0 instead: that is how it stops). */
  interrupted: 130,
})

/** One of the values of `EXIT_CODES`. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES]

/** Bad usage of the command line (exit code 2): the message says what to type instead. */
export class UsageError extends ConfigurationError {}

/** A topic, group, entry or type the command names does not exist (exit code 4). */
export class NotFoundError extends SwitchyardError {
  constructor(message: string) {
    super(message, { code: 'ERR_NOT_FOUND', retryable: false })
  }
}

/** A check failed (exit code 5): data that does not match its schema, an incompatible change. */
export class CheckFailedError extends SwitchyardError {
  constructor(message: string) {
    super(message, { code: 'ERR_CHECK_FAILED', retryable: false })
  }
}
