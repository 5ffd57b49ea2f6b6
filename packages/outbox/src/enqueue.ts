import {
  binaryCodec,
  type Codec,
  ConfigurationError,
  createEvent,
  type EventEnvelope,
  type EventInput,
} from '@switchyard/core'
import type { Queryable } from './driver.js'
import { tableNames } from './schema.js'

/** Options of `enqueue`. */
export interface EnqueueOptions {
  /** Default `source` of events that carry none, usually the service name. */
  source?: string
  /** The outbox table. @default 'outbox' */
  table?: string
}

// The bus checks topics at publish; checking here too means a bad topic fails the business
// transaction instead of being parked much later by the relay.
const TOPIC = /^[A-Za-z0-9._\-~:/@]{1,249}$/u
// 5 parameters a row; PostgreSQL allows 65 535 per statement.
const ROWS_PER_STATEMENT = 10_000
const codec: Codec = binaryCodec()

/**
 * Writes events into the outbox through the caller's own client, so they commit or roll back
 * with the business write in the same transaction. Fills `id`, `time` and `source` like
 * `bus.publish` and resolves with the complete envelopes. Re-enqueuing an event id that is still
 * in the outbox does nothing, which makes a retried business transaction safe.
 * @example
 * await db.transaction(async (tx) => {
 *   await tx.query('INSERT INTO employees (id, name) VALUES ($1, $2)', ['e1', 'Ada'])
 *   await enqueue(tx, 'employees', { type: 'employee.created', data: { id: 'e1' } }, { source: 'hr' })
 * })
 * @throws {ConfigurationError} for an invalid topic or event, before anything is written.
 */
export async function enqueue<T>(
  tx: Queryable,
  topic: string,
  events: EventInput<T> | readonly EventInput<T>[],
  options: EnqueueOptions = {},
): Promise<EventEnvelope<T>[]> {
  if (tx === null || typeof tx !== 'object' || typeof tx.query !== 'function') {
    throw new ConfigurationError('enqueue needs the transaction client of your business write', {
      field: 'tx',
    })
  }
  if (typeof topic !== 'string' || !TOPIC.test(topic)) {
    throw new ConfigurationError(
      `Invalid topic ${JSON.stringify(topic)}: use 1-249 characters from A-Z a-z 0-9 . _ - ~ : / @`,
      { field: 'topic' },
    )
  }
  const { table } = tableNames(options.table)
  const defaults = options.source === undefined ? {} : { source: options.source }
  const list = (Array.isArray(events) ? events : [events]) as readonly EventInput<T>[]
  const envelopes = list.map((input) => createEvent<T>(input, defaults))
  const rows = envelopes.map((event) => {
    const { headers, body } = codec.encode(event)
    return [event.id, topic, event.partitionkey ?? null, JSON.stringify(headers), body]
  })
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(start, start + ROWS_PER_STATEMENT)
    const values = chunk.map((_, i) => {
      const p = i * 5
      return `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}::text::jsonb, $${p + 5}::bytea)`
    })
    await tx.query(
      `INSERT INTO ${table} (id, topic, partition_key, headers, payload) VALUES ${values.join(', ')}
       ON CONFLICT (id) DO NOTHING`,
      chunk.flat(),
    )
  }
  return envelopes
}
