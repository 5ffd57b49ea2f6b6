import { inspect } from 'node:util'

/**
 * Base class of every error Switchyard throws. `code` is stable and safe to branch on;
 * `retryable` tells the retry policy whether trying again can help.
 */
export class SwitchyardError extends Error {
  /** Stable machine-readable code, e.g. `ERR_CONFIGURATION`. */
  readonly code: string
  /** Whether another attempt may succeed. Decode and validation errors never do. */
  readonly retryable: boolean

  constructor(
    message: string,
    options: { code?: string; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = options.code ?? 'ERR_SWITCHYARD'
    this.retryable = options.retryable ?? false
  }
}

/** Invalid options or envelope fields, thrown at once by the call that received them. */
export class ConfigurationError extends SwitchyardError {
  /** Dotted path of the offending field, e.g. `subscribe.concurrency`. */
  readonly field: string | undefined

  constructor(message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, { code: 'ERR_CONFIGURATION', retryable: false, cause: options.cause })
    this.field = options.field
  }
}

/**
 * The transport could not reach or lost its broker. Retryable, except when the broker refused
 * the client for good (wrong or missing credentials): trying again cannot help.
 */
export class ConnectionError extends SwitchyardError {
  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, {
      code: 'ERR_CONNECTION',
      retryable: options.retryable ?? true,
      cause: options.cause,
    })
  }
}

/** A publish was not confirmed by the transport. Nothing is known to be stored. */
export class PublishError extends SwitchyardError {
  /** Topic the publish was aimed at. */
  readonly topic: string

  constructor(message: string, options: { topic: string; retryable?: boolean; cause?: unknown }) {
    super(message, {
      code: 'ERR_PUBLISH',
      retryable: options.retryable ?? true,
      cause: options.cause,
    })
    this.topic = options.topic
  }
}

/** A message could not be turned into an event (bad headers, missing attributes, bad JSON). */
export class DecodeError extends SwitchyardError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'ERR_DECODE', retryable: false, cause: options.cause })
  }
}

/** One failing path of a schema validation, in words. */
export interface ValidationIssue {
  /** Path such as `data.email`. */
  path: string
  /** What is wrong, e.g. `must match format "email"`. */
  message: string
}

/** Event data did not match its schema. Lists every failing path. */
export class SchemaValidationError extends SwitchyardError {
  /** Every failing path with its message. */
  readonly issues: readonly ValidationIssue[]
  /** Event type whose schema failed, when known. */
  readonly eventType: string | undefined

  constructor(
    issues: readonly ValidationIssue[],
    options: { eventType?: string; message?: string } = {},
  ) {
    const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ')
    super(
      options.message ??
        `Event${options.eventType ? ` "${options.eventType}"` : ''} failed validation: ${summary}`,
      { code: 'ERR_SCHEMA_VALIDATION', retryable: false },
    )
    this.issues = issues
    this.eventType = options.eventType
  }
}

/** An operation did not finish in time (request without a responder, close, connect). */
export class TimeoutError extends SwitchyardError {
  /** The limit that was exceeded, in milliseconds. */
  readonly timeoutMs: number

  constructor(message: string, options: { timeoutMs: number; cause?: unknown }) {
    super(message, { code: 'ERR_TIMEOUT', retryable: true, cause: options.cause })
    this.timeoutMs = options.timeoutMs
  }
}

/** Wraps a non-Error value thrown by a handler, or marks a handler failure explicitly. */
export class HandlerError extends SwitchyardError {
  constructor(message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, {
      code: 'ERR_HANDLER',
      retryable: options.retryable ?? true,
      cause: options.cause,
    })
  }
}

/**
 * Messages a broker removed before a consumer group settled them (retention that drops old
 * messages, a delivery limit reached): they will not be delivered. Reported to `onError`, so a
 * loss the user opted into is never silent.
 */
export class MessagesLostError extends SwitchyardError {
  /** How many messages were lost (at least). */
  readonly count: number
  /** The stream or topic they were kept in. */
  readonly stream: string
  /** The consumer group that lost them, when it is one group. */
  readonly group: string | undefined
  /** Broker positions of what was lost, where known (a range's two ends for a run). */
  readonly positions: readonly string[]

  constructor(
    message: string,
    options: { count: number; stream: string; group?: string; positions?: readonly string[] },
  ) {
    super(message, { code: 'ERR_MESSAGES_LOST', retryable: false })
    this.count = options.count
    this.stream = options.stream
    this.group = options.group
    this.positions = options.positions ?? []
  }
}

/** The bus or subscription is closed; the call cannot proceed. */
export class ClosedError extends SwitchyardError {
  constructor(message = 'The event bus is closed') {
    super(message, { code: 'ERR_CLOSED', retryable: false })
  }
}

/**
 * Turns anything thrown into an `Error` so it can be named, logged and dead-lettered. Never
 * throws itself: a value that throws when looked at (a revoked `Proxy`, a throwing `toString`
 * or getter) still becomes a readable `HandlerError`.
 */
export function toError(value: unknown): Error {
  try {
    if (value instanceof Error) {
      // An Error whose name or message throws on access cannot be recorded as it is.
      if (typeof value.name === 'string' && typeof value.message === 'string') return value
    } else if (typeof value === 'string') {
      return new HandlerError(value, { cause: value })
    }
    return new HandlerError(`Non-error thrown: ${describe(value)}`, { cause: value })
  } catch {
    return new HandlerError('Non-error thrown: a value that throws when inspected')
  }
}

/** A short readable form of any value, circular ones included. */
function describe(value: unknown): string {
  try {
    return inspect(value, { depth: 2, breakLength: Number.POSITIVE_INFINITY, maxStringLength: 200 })
  } catch {
    return `a value of type ${typeof value} that cannot be inspected`
  }
}
