import {
  ConfigurationError,
  ConnectionError,
  SchemaValidationError,
  TimeoutError,
} from '@switchyard/core'
import { CommanderError } from 'commander'
import pc from 'picocolors'
import { CheckFailedError, EXIT_CODES, type ExitCode, NotFoundError } from './exit-codes.js'

// Words of a failed connection in the errors of ioredis, kafkajs, nats.js, pg and Node itself.
const UNREACHABLE =
  /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ETIMEDOUT|ECONNRESET|connection (is )?closed|Connection timeout|CONNECTION_REFUSED|getaddrinfo|WRONGPASS|NOAUTH|AUTH|[Aa]uthenticat|[Aa]uthoriz|password|SASL|credentials/

/** The exit code an error stands for (see `EXIT_CODES`). */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CommanderError) return EXIT_CODES.usage
  if (error instanceof NotFoundError) return EXIT_CODES.notFound
  if (error instanceof CheckFailedError || error instanceof SchemaValidationError)
    return EXIT_CODES.invalid
  if (error instanceof ConnectionError || error instanceof TimeoutError)
    return EXIT_CODES.connection
  if (error instanceof ConfigurationError) return EXIT_CODES.usage
  const text = messageOf(error)
  if (UNREACHABLE.test(text) || UNREACHABLE.test(String((error as Error)?.cause ?? '')))
    return EXIT_CODES.connection
  return EXIT_CODES.failure
}

/** The error as one line: its message, the cause's when it adds something, no stack, no secret. */
export function errorLine(error: unknown): string {
  let text = messageOf(error)
  const cause = (error as { cause?: unknown } | undefined)?.cause
  if (cause !== undefined) {
    const more = messageOf(cause).replace(/\.$/, '')
    if (more !== '' && !text.includes(more)) text = `${text}: ${more}`
  }
  return redact(text.replace(/\s*\n\s*/g, ' ').trim())
}

/** Hides the password of any URL in a message (`redis://:secret@host` → `redis://:***@host`). */
export function redact(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)[^\s@/]*@/gi, '$1***@')
}

function messageOf(error: unknown): string {
  if (error instanceof Error) {
    // AggregateError (several addresses refused) carries the reasons in `errors`.
    const inner = (error as { errors?: unknown[] }).errors
    if (error.message === '' && Array.isArray(inner) && inner.length > 0) return messageOf(inner[0])
    return error.message || error.name
  }
  return String(error)
}

/** Prints one error line on stderr (red on a terminal) and returns its exit code. */
export function reportError(error: unknown, stderr: NodeJS.WritableStream & { isTTY?: boolean }) {
  const code = exitCodeOf(error)
  const line = `switchyard: ${errorLine(error)}`
  stderr.write(`${stderr.isTTY === true ? pc.red(line) : line}\n`)
  return code
}
