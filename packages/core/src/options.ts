import { ConfigurationError } from './errors.js'

/**
 * Rejects keys that are not in `allowed`, so a misspelt option fails loudly instead of being
 * ignored.
 * @throws {ConfigurationError} naming the unknown option.
 */
export function checkKeys(value: unknown, allowed: readonly string[], path: string): void {
  if (value === undefined) return
  if (value === null || typeof value !== 'object') {
    throw new ConfigurationError(`${path} must be an object`, { field: path })
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new ConfigurationError(
        `Unknown option ${path}.${key}; expected one of: ${allowed.join(', ')}`,
        { field: `${path}.${key}` },
      )
    }
  }
}

/**
 * Validates a numeric option and returns it.
 * @throws {ConfigurationError} naming the field when out of range or not a number.
 */
export function checkNumber(
  value: unknown,
  field: string,
  range: { min?: number; max?: number; integer?: boolean } = {},
): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new ConfigurationError(`${field} must be a number, got ${JSON.stringify(value)}`, {
      field,
    })
  }
  if (range.integer && !Number.isInteger(value)) {
    throw new ConfigurationError(`${field} must be an integer, got ${value}`, { field })
  }
  if (range.min !== undefined && value < range.min) {
    throw new ConfigurationError(`${field} must be at least ${range.min}, got ${value}`, { field })
  }
  if (range.max !== undefined && value > range.max) {
    throw new ConfigurationError(`${field} must be at most ${range.max}, got ${value}`, { field })
  }
  return value
}

/**
 * Validates an option that takes one of a few names.
 * @throws {ConfigurationError} naming the field and the names it takes.
 */
export function checkOneOf<T extends string>(
  value: unknown,
  allowed: readonly T[],
  field: string,
): T {
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw new ConfigurationError(
      `${field} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`,
      { field },
    )
  }
  return value as T
}

/**
 * Validates a non-empty string option and returns it.
 * @throws {ConfigurationError} naming the field.
 */
export function checkString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ConfigurationError(`${field} must be a non-empty string`, { field })
  }
  return value
}

/** Topic names every transport accepts. */
export const TOPIC = /^[A-Za-z0-9._\-~:/@]{1,249}$/u
/** Subscriptions may also use `*` and `>` wildcards; transports without them reject these. */
export const TOPIC_PATTERN = /^[A-Za-z0-9._\-~:/@*>]{1,249}$/u

/** @throws {ConfigurationError} for a topic name no transport accepts. */
export function checkTopic(topic: unknown, pattern = TOPIC): asserts topic is string {
  if (typeof topic !== 'string' || !pattern.test(topic)) {
    throw new ConfigurationError(
      `Invalid topic ${JSON.stringify(topic)}: use 1-249 characters from A-Z a-z 0-9 . _ - ~ : / @`,
      { field: 'topic' },
    )
  }
}
