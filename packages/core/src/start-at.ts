import { ConfigurationError } from './errors.js'

/** Where a new consumer group starts reading. Existing groups resume where they left off. */
export type StartAt =
  | 'latest'
  | 'earliest'
  | { time: Date | string | number }
  | { sequence: string | number | bigint }

/**
 * The time of a `{ time }` start position in epoch milliseconds, or `undefined` for other forms.
 * @throws {ConfigurationError} when the time does not parse.
 */
export function startAtTime(startAt: StartAt): number | undefined {
  if (typeof startAt !== 'object' || !('time' in startAt)) return undefined
  const value = startAt.time
  const ms =
    value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value)
  if (!Number.isFinite(ms)) {
    throw new ConfigurationError(`startAt.time ${JSON.stringify(value)} is not a valid time`, {
      field: 'startAt.time',
    })
  }
  return ms
}
