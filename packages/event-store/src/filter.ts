import { ConfigurationError } from '@switchyard/core'

/**
 * Which events a read, query or subscription wants. Every field narrows; globs follow core's
 * `typeMatcher`: `*` within one dot-separated segment, `**` across segments.
 */
export interface EventFilter {
  /** Event type globs (`employee.*`, `com.anumate.**`); any of them matches. */
  types?: readonly string[]
  /** Only this tenant's events. */
  tenant?: string
  /** `source` equals this. */
  source?: string
  /** `subject` equals this. */
  subject?: string
  /** Aggregate type: the stream id's part before the first `-`, or the `aggregatetype` extension. */
  aggregateType?: string
  /** Aggregate id: the stream id's part after the first `-` (the `subject` of an archived event). */
  aggregateId?: string
  /** Events of this stream only. */
  streamId?: string
  /** Topic globs (the outbox topic of appended events, the topic archived from). */
  topics?: readonly string[]
  /** Event `time` at or after this RFC 3339 instant. */
  timeFrom?: string
  /** Event `time` before this RFC 3339 instant. */
  timeTo?: string
}

const FILTER_KEYS = [
  'types',
  'tenant',
  'source',
  'subject',
  'aggregateType',
  'aggregateId',
  'streamId',
  'topics',
  'timeFrom',
  'timeTo',
]

/** A glob as an anchored POSIX regular expression, for `~` in SQL. */
export function globToRegex(glob: string): string {
  let source = ''
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        source += '.*'
        i++
      } else source += '[^.]*'
    } else source += ch.replace(/[.+?^${}()|[\]\\]/g, '\\$&')
  }
  return `^${source}$`
}

/** SQL conditions (joined by AND) with their parameters, numbered from `params.length + 1`. */
export interface SqlConditions {
  /** Conditions on the events table aliased `e`. */
  where: string[]
  /** Parameter values; the conditions refer to them by position. */
  params: unknown[]
}

function strings(value: unknown, field: string): readonly string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0)) {
    throw new ConfigurationError(`${field} must be a list of non-empty strings`, { field })
  }
  return value
}

/**
 * The conditions of a filter on the events table `e`, appending to `params`.
 * @throws {ConfigurationError} for an unknown key, a wrong type or a time that does not parse.
 */
export function filterSql(filter: EventFilter | undefined, params: unknown[]): string[] {
  if (filter === undefined) return []
  if (filter === null || typeof filter !== 'object') {
    throw new ConfigurationError('filter must be an object', { field: 'filter' })
  }
  const where: string[] = []
  const add = (value: unknown) => {
    params.push(value)
    return `$${params.length}`
  }
  for (const key of Object.keys(filter)) {
    if (!FILTER_KEYS.includes(key)) {
      throw new ConfigurationError(
        `Unknown filter key "${key}"; expected one of: ${FILTER_KEYS.join(', ')}`,
        { field: `filter.${key}` },
      )
    }
  }
  const equal: Array<[keyof EventFilter, string]> = [
    ['tenant', 'tenant'],
    ['source', 'source'],
    ['subject', 'subject'],
    ['aggregateType', 'aggregate_type'],
    ['aggregateId', 'aggregate_id'],
    ['streamId', 'stream_id'],
  ]
  for (const [key, column] of equal) {
    const value = filter[key]
    if (value === undefined) continue
    if (typeof value !== 'string') {
      throw new ConfigurationError(`filter.${key} must be a string`, { field: `filter.${key}` })
    }
    where.push(`e.${column} = ${add(value)}`)
  }
  for (const [key, column] of [
    ['types', 'type'],
    ['topics', 'topic'],
  ] as const) {
    const globs = filter[key]
    if (globs === undefined) continue
    const list = strings(globs, `filter.${key}`)
    if (list.length === 0) where.push('false')
    else where.push(`(${list.map((g) => `e.${column} ~ ${add(globToRegex(g))}`).join(' OR ')})`)
  }
  for (const [key, op] of [
    ['timeFrom', '>='],
    ['timeTo', '<'],
  ] as const) {
    const value = filter[key]
    if (value === undefined) continue
    if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
      throw new ConfigurationError(`filter.${key} must be an RFC 3339 time`, {
        field: `filter.${key}`,
      })
    }
    where.push(`e.time ${op} ${add(new Date(value).toISOString())}::timestamptz`)
  }
  return where
}
