import { ConfigurationError } from './errors.js'

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

/** Levels of `consoleLogger`, least severe first; `silent` writes nothing. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent']

/**
 * A logger over the console that writes `level` and above, one line per entry:
 * `[switchyard] message {fields as JSON}`. The default of `createEventBus` and of every
 * adapter (at `warn`): the only place Switchyard writes to the console, and only when you
 * gave it no logger.
 * @example createEventBus({ transport, logger: consoleLogger('info') })
 */
export function consoleLogger(level: LogLevel = 'warn'): Logger {
  const threshold = LEVELS.indexOf(level)
  const write =
    (at: Exclude<LogLevel, 'silent'>) =>
    (fields: Record<string, unknown>, message?: string): void => {
      if (LEVELS.indexOf(at) < threshold) return
      const detail = Object.keys(fields).length === 0 ? '' : ` ${safeJson(fields)}`
      // The one console write in Switchyard: a user who passes a logger never reaches it.
      console[at](`[switchyard] ${message ?? ''}${detail}`)
    }
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') }
}

function safeJson(fields: Record<string, unknown>): string {
  try {
    return JSON.stringify(fields)
  } catch {
    return '[fields not serialisable]'
  }
}

/**
 * Log fields for an error: its name, message and code, never its stack (log lines carry no
 * stack traces) nor its cause's fields (which may hold credentials).
 */
export function errorFields(error: unknown): {
  error: { name: string; message: string; code?: string }
} {
  if (!(error instanceof Error)) return { error: { name: 'Error', message: String(error) } }
  const code = (error as { code?: unknown }).code
  return {
    error: {
      name: error.name,
      message: error.message,
      ...(typeof code === 'string' ? { code } : {}),
    },
  }
}

/**
 * Checks a `logger` option: `undefined` stays undefined, anything else must have the four
 * methods of `Logger`.
 * @throws {ConfigurationError} naming `field` and the missing methods.
 */
export function checkLogger(logger: unknown, field: string): Logger | undefined {
  if (logger === undefined) return undefined
  const l = logger as Partial<Logger> | null
  const missing = (['debug', 'info', 'warn', 'error'] as const).filter(
    (m) => typeof l?.[m] !== 'function',
  )
  if (missing.length === 0) return logger as Logger
  throw new ConfigurationError(
    `${field} must be a pino-compatible logger (debug, info, warn, error); missing ${missing.join(', ')}`,
    { field },
  )
}
