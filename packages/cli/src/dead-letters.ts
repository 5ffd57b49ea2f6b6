import { type DeadLetterRecord, DecodeError, type EventBus } from '@switchyard/core'
import { NotFoundError, UsageError } from './exit-codes.js'

/** What a dead-letter topic holds, read without consuming it. */
export interface DeadLetterView {
  /** Every retained entry, oldest first. */
  entries: DeadLetterRecord[]
  /** Entries the replay group (`<topic>.replay`) has not taken yet (not replayed, not discarded). */
  waiting: number | null
  /** The replay group's name. */
  replayGroup: string
}

/** The most entries read from a dead-letter topic at once. */
const MAX_ENTRIES = 100_000

/**
 * Reads a dead-letter topic's entries and how many of them `dlq replay` would still take.
 * @throws {NotFoundError} when the topic does not exist.
 * @throws {UsageError} when it holds events that are not dead-letter entries.
 */
export async function readDeadLetters(bus: EventBus, topic: string): Promise<DeadLetterView> {
  const replayGroup = `${topic}.replay`
  const [inspected] = (await bus.inspect(topic)).topics
  if (inspected === undefined || (inspected.retained === 0 && inspected.groups.length === 0))
    throw new NotFoundError(
      `Dead-letter topic "${topic}" does not exist on ${bus.transport.name} (nothing was dead-lettered there)`,
    )
  let entries: DeadLetterRecord[]
  try {
    entries = await bus.deadLetters.list(topic, {
      limit: Math.min(inspected.retained ?? MAX_ENTRIES, MAX_ENTRIES),
    })
  } catch (error) {
    if (error instanceof DecodeError)
      throw new UsageError(
        `"${topic}" holds events that are not dead-letter entries: give its dead-letter topic (${topic}.dlq)`,
      )
    throw error
  }
  const group = inspected.groups.find((g) => g.group === replayGroup)
  const waiting =
    group === undefined
      ? entries.length
      : group.lag === null
        ? null
        : group.lag + (group.pending ?? 0)
  return { entries, waiting, replayGroup }
}

/** Finds one entry by its id or its original event's id. */
export function findEntry(view: DeadLetterView, id: string, topic: string): DeadLetterRecord {
  const found = view.entries.find((e) => e.id === id || e.event?.id === id)
  if (found === undefined)
    throw new NotFoundError(`No dead-letter entry with id "${id}" on "${topic}"`)
  return found
}
