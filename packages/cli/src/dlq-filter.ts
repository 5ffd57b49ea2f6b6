import { type DeadLetterRecord, typeMatcher } from '@switchyard/core'
import { UsageError } from './exit-codes.js'
import { parseFrom } from './tail-reader.js'

const KEYS = ['type', 'error', 'group', 'tenant', 'topic', 'since', 'until', 'id'] as const

/**
 * Builds one predicate from `--filter key=value` terms (all must hold): `type` (glob on the
 * original event's type), `error` (text in the error name, message or reason, any case), `group`,
 * `tenant`, `topic` (the original topic), `since`/`until` (ISO time or a duration back, `1h`),
 * `id` (the entry's or the original event's id).
 */
export function deadLetterFilter(
  terms: readonly string[] = [],
): (entry: DeadLetterRecord) => boolean {
  const checks: Array<(entry: DeadLetterRecord) => boolean> = []
  for (const term of terms) {
    const at = term.indexOf('=')
    const key = term.slice(0, at) as (typeof KEYS)[number]
    const value = term.slice(at + 1)
    if (at <= 0 || !KEYS.includes(key) || value === '')
      throw new UsageError(
        `--filter "${term}" must be key=value with key one of ${KEYS.join(', ')}`,
      )
    checks.push(check(key, value))
  }
  return (entry) => checks.every((c) => c(entry))
}

function timeOf(value: string, key: string): number {
  const from = parseFrom(value)
  if (from.kind !== 'time')
    throw new UsageError(`--filter ${key}= needs an ISO time or a duration (1h)`)
  return from.ms
}

function check(key: (typeof KEYS)[number], value: string): (entry: DeadLetterRecord) => boolean {
  switch (key) {
    case 'type': {
      const matches = typeMatcher(value)
      return (e) => e.event !== undefined && matches(e.event.type)
    }
    case 'error': {
      const needle = value.toLowerCase()
      return (e) => `${e.error.name} ${e.error.message} ${e.reason}`.toLowerCase().includes(needle)
    }
    case 'group':
      return (e) => e.group === value
    case 'tenant':
      return (e) => e.event?.tenantid === value
    case 'topic':
      return (e) => e.topic === value
    case 'id':
      return (e) => e.id === value || e.event?.id === value
    case 'since': {
      const ms = timeOf(value, key)
      return (e) => Date.parse(e.deadLetteredAt) >= ms
    }
    case 'until': {
      const ms = timeOf(value, key)
      return (e) => Date.parse(e.deadLetteredAt) <= ms
    }
  }
}
