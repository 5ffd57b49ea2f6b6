import { ConfigurationError } from './errors.js'
import { exponential } from './retry-policy.js'
import type { SubscribeDefaults } from './subscribe-options.js'

/** Environment variables as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>

/**
 * Typed readers over environment variables, for an adapter's `fromEnv()`. Each returns
 * `undefined` for an unset or empty variable and throws a `ConfigurationError` naming the
 * variable when it is set to something unusable.
 */
export interface EnvReader {
  /** The raw value. */
  string(name: string): string | undefined
  /** A whole number ≥ 0. @throws {ConfigurationError} otherwise. */
  int(name: string): number | undefined
  /**
   * `true/1/yes/on` or `false/0/no/off`, any case: the one boolean parser of every `fromEnv`.
   * @throws {ConfigurationError} naming the variable otherwise.
   */
  bool(name: string): boolean | undefined
  /** One of `values`, compared in lower case. @throws {ConfigurationError} otherwise. */
  oneOf<const T extends string>(name: string, values: readonly T[]): T | undefined
}

const TRUE = ['true', '1', 'yes', 'on']
const FALSE = ['false', '0', 'no', 'off']

/** Readers over `env` (default `process.env`). */
export function envReader(env: Env = process.env): EnvReader {
  const string = (name: string) => {
    const value = env[name]?.trim()
    return value === undefined || value === '' ? undefined : value
  }
  const oneOf = <const T extends string>(name: string, values: readonly T[]): T | undefined => {
    const value = string(name)?.toLowerCase()
    if (value === undefined) return undefined
    if (!(values as readonly string[]).includes(value)) {
      throw new ConfigurationError(
        `${name} must be one of ${values.join(', ')}, got ${JSON.stringify(env[name])}`,
        { field: name },
      )
    }
    return value as T
  }
  return {
    string,
    oneOf,
    int(name) {
      const value = string(name)
      if (value === undefined) return undefined
      if (!/^\d+$/.test(value)) {
        throw new ConfigurationError(
          `${name} must be a whole number, got ${JSON.stringify(value)}`,
          { field: name },
        )
      }
      return Number(value)
    },
    bool(name) {
      const value = oneOf(name, [...TRUE, ...FALSE])
      return value === undefined ? undefined : TRUE.includes(value)
    },
  }
}

/**
 * The subscription defaults of the seed systems' environment, for every adapter's `fromEnv()`:
 * `EVENTS_MAX_RETRIES` (retries after the first attempt, so `maxAttempts` is one more),
 * `EVENTS_RETRY_BACKOFF_MS` and `EVENTS_RETRY_MAX_BACKOFF_MS` (exponential backoff; the cap
 * defaults to core's 30 000), `DLQ_ENABLED` (`false` turns dead-lettering off) and
 * `DLQ_TOPIC_SUFFIX`. Undefined when none is set.
 * @throws {ConfigurationError} naming the variable that is set to something unusable.
 */
export function subscribeDefaultsFromEnv(env: Env = process.env): SubscribeDefaults | undefined {
  const read = envReader(env)
  const defaults: SubscribeDefaults = {}
  const retries = read.int('EVENTS_MAX_RETRIES')
  const baseMs = read.int('EVENTS_RETRY_BACKOFF_MS')
  const maxMs = read.int('EVENTS_RETRY_MAX_BACKOFF_MS')
  if (retries !== undefined || baseMs !== undefined || maxMs !== undefined) {
    defaults.retry = {}
    if (retries !== undefined) defaults.retry.maxAttempts = retries + 1
    if (baseMs !== undefined || maxMs !== undefined) {
      const base = baseMs ?? 100
      defaults.retry.backoff = exponential({ baseMs: base, maxMs: Math.max(base, maxMs ?? 30_000) })
    }
  }
  const enabled = read.bool('DLQ_ENABLED')
  const suffix = read.string('DLQ_TOPIC_SUFFIX')
  if (enabled === false) defaults.deadLetter = false
  else if (suffix !== undefined) defaults.deadLetter = { suffix }
  return Object.keys(defaults).length === 0 ? undefined : defaults
}
