import { assertValidEvent, ConfigurationError, type EventEnvelope } from '@switchyard/core'
import type { StoreContext } from './context.js'
import { toStoredJson } from './recorded.js'

/** What `record` stored. */
export interface RecordResult {
  /** Events stored now. */
  recorded: number
  /** Events skipped because their id is stored already. */
  skipped: number
}

/**
 * Stores events as they are (the archive): positions in commit order like appends, no stream,
 * no outbox. Idempotent on event id, so a redelivered or re-archived event is stored once.
 * One statement, so one round trip and an implicit transaction.
 * @throws {ConfigurationError} for an event that is not a valid envelope.
 */
export async function record(
  ctx: StoreContext,
  topic: string | undefined,
  events: EventEnvelope | readonly EventEnvelope[],
): Promise<RecordResult> {
  if (topic !== undefined && (typeof topic !== 'string' || topic.length === 0)) {
    throw new ConfigurationError('topic must be a non-empty string', { field: 'topic' })
  }
  const list = (Array.isArray(events) ? events : [events]) as readonly EventEnvelope[]
  const unique = new Map<string, EventEnvelope>()
  for (const event of list) {
    assertValidEvent(event)
    if (!unique.has(event.id)) unique.set(event.id, event)
  }
  if (unique.size === 0) return { recorded: 0, skipped: 0 }
  const { rows } = await ctx.driver.query(
    `SELECT recorded FROM ${ctx.names.record}($1, $2::text::jsonb)`,
    [topic ?? null, JSON.stringify([...unique.values()].map(toStoredJson))],
  )
  const recorded = Number((rows[0] as { recorded: string | number }).recorded)
  return { recorded, skipped: list.length - recorded }
}
