import { ConfigurationError } from '@switchyard/core'

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,39}$/

/** Quoted names of everything the store keeps in its schema. */
export interface StoreNames {
  /** The schema name, unquoted. */
  schema: string
  /** `"schema".events`: every event, in global order. */
  events: string
  /** `"schema".streams`: one row per stream (version, tenant, aggregate type). */
  streams: string
  /** `"schema".head`: the one row holding the last global position; locked by every write. */
  head: string
  /** `"schema".checkpoints`: last handled position per subscriber name. */
  checkpoints: string
  /** `"schema".snapshots`: aggregate states per stream and snapshot name. */
  snapshots: string
  /** `"schema".append_to_stream`: the append as one function call. */
  append: string
  /** `"schema".record_events`: the archive's insert as one function call. */
  record: string
  /** The `LISTEN/NOTIFY` channel a commit of new events notifies. */
  channel: string
  /** Namespace (first key) of the migration's advisory lock. */
  lockSpace: number
}

/**
 * Validates a schema name and derives the store's table names from it.
 * @throws {ConfigurationError} for a name that is not a plain lower-case identifier.
 */
export function storeNames(schema = 'event_store'): StoreNames {
  if (typeof schema !== 'string' || !IDENTIFIER.test(schema)) {
    throw new ConfigurationError(
      `Invalid event store schema ${JSON.stringify(schema)}: use a lower-case identifier of at most 40 characters`,
      { field: 'schema' },
    )
  }
  const q = `"${schema}"`
  return {
    schema,
    events: `${q}.events`,
    streams: `${q}.streams`,
    head: `${q}.head`,
    checkpoints: `${q}.checkpoints`,
    snapshots: `${q}.snapshots`,
    append: `${q}.append_to_stream`,
    record: `${q}.record_events`,
    channel: `${schema}_appended`,
    lockSpace: fnv1a(`event-store:${schema}`) | 0,
  }
}

/** 32-bit FNV-1a: a stable advisory-lock namespace per schema. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

/** The aggregate a stream id names: `employee-e1` is type `employee`, id `e1`. */
export interface AggregateRef {
  /** The part before the first `-` (KurrentDB's category), when there is one. */
  type: string | undefined
  /** The part after it, or the whole id. */
  id: string
}

/** Splits a stream id at its first `-` into aggregate type and id. */
export function aggregateOf(streamId: string): AggregateRef {
  const dash = streamId.indexOf('-')
  if (dash <= 0 || dash === streamId.length - 1) return { type: undefined, id: streamId }
  return { type: streamId.slice(0, dash), id: streamId.slice(dash + 1) }
}

/**
 * @throws {ConfigurationError} for a stream id that is not a non-empty string of at most 500
 * characters.
 */
export function checkStreamId(streamId: unknown): string {
  if (typeof streamId !== 'string' || streamId.length === 0 || streamId.length > 500) {
    throw new ConfigurationError(
      `A stream id must be a non-empty string of at most 500 characters, got ${JSON.stringify(streamId)}`,
      { field: 'streamId' },
    )
  }
  return streamId
}
