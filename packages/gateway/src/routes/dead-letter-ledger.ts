import { randomUUID } from 'node:crypto'
import {
  DEAD_LETTER_TYPE,
  type DeadLetterRecord,
  type EventEnvelope,
  readDeadLetter,
  typeMatcher,
} from '@switchyard/core'
import type { OutboundMessage } from '@switchyard/core/transport'
import { hasRole, type Principal } from '../auth.js'
import type { GatewayContext } from '../context.js'
import { decodeRetained } from './retained.js'

/** CloudEvents type of the marks the gateway writes when an operator replays or discards. */
export const DEAD_LETTER_ACTION_TYPE = 'io.switchyard.deadletter.action'

/** What an operator did to a dead letter. */
export type DeadLetterAction = 'replayed' | 'discarded'

/** Where a dead letter stands: untouched, or what was done to it last. */
export type DeadLetterStatus = 'open' | DeadLetterAction

/** One action on a dead letter, as read back from the actions topic. */
export interface ActionMark {
  action: DeadLetterAction
  /** The token subject that did it. */
  by: string | null
  at: string
}

/** A dead letter with what was done to it. */
export interface LedgerEntry {
  record: DeadLetterRecord
  marks: ActionMark[]
  status: DeadLetterStatus
}

/** What the listing filters on; every given field must match. */
export interface DeadLetterFilter {
  /** Globs of the original event's type. */
  types?: string[] | undefined
  /** Case-insensitive text in the error name, error message or reason. */
  error?: string | undefined
  /** Dead-lettered at or after (ms since the epoch). */
  since?: number | undefined
  /** Dead-lettered at or before (ms since the epoch). */
  until?: number | undefined
  /** The group that gave up. */
  group?: string | undefined
  /** `all`, or one status. */
  status: DeadLetterStatus | 'all'
}

/** Most action marks read per dead-letter topic. */
const ACTIONS_MAX = 10_000

/**
 * The topic where actions on `deadLetterTopic` are recorded. Dead-letter topics are logs (Kafka
 * cannot delete one record), so a replay or a discard is written down beside them, not erased.
 */
export function actionsTopic(deadLetterTopic: string): string {
  return `${deadLetterTopic}.actions`
}

/**
 * Who may see an entry: the original event's tenant must be the token's (or the token has no
 * tenant), and the token must be a subscriber of the topic the event was read from.
 */
export function visibleTo(principal: Principal, record: DeadLetterRecord): boolean {
  if (principal.tenant !== undefined && record.event?.tenantid !== principal.tenant) return false
  return hasRole(principal, 'subscriber', record.topic)
}

/**
 * The entries of a dead-letter topic (up to `browseMax`, oldest first) with the actions recorded
 * on them. Messages that are not dead-letter entries are counted as `foreign`.
 */
export async function readLedger(
  ctx: GatewayContext,
  deadLetterTopic: string,
): Promise<{ entries: LedgerEntry[]; scanned: number; complete: boolean; foreign: number }> {
  const [retained, actions] = await Promise.all([
    decodeRetained(ctx, deadLetterTopic, ctx.browseMax),
    decodeRetained(ctx, actionsTopic(deadLetterTopic), ACTIONS_MAX),
  ])
  const marks = new Map<string, ActionMark[]>()
  for (const event of actions.events) {
    const mark = markOf(event)
    if (mark === undefined) continue
    const list = marks.get(mark.id) ?? []
    list.push(mark.mark)
    marks.set(mark.id, list)
  }
  const entries: LedgerEntry[] = []
  let foreign = retained.undecodable
  for (const event of retained.events) {
    let record: DeadLetterRecord
    try {
      if (event.type !== DEAD_LETTER_TYPE) throw new Error('not a dead letter')
      record = readDeadLetter(event)
    } catch {
      foreign++
      continue
    }
    const list = marks.get(record.id) ?? []
    entries.push({ record, marks: list, status: list.at(-1)?.action ?? 'open' })
  }
  return {
    entries,
    scanned: retained.scanned,
    complete: retained.complete && actions.complete,
    foreign,
  }
}

function markOf(event: EventEnvelope): { id: string; mark: ActionMark } | undefined {
  if (event.type !== DEAD_LETTER_ACTION_TYPE || event.subject === undefined) return undefined
  const data = event.data as { action?: unknown; by?: unknown } | undefined
  const action = data?.action
  if (action !== 'replayed' && action !== 'discarded') return undefined
  const by = typeof data?.by === 'string' ? data.by : null
  return { id: event.subject, mark: { action, by, at: event.time ?? '' } }
}

/** A predicate for `filter`. */
export function matcher(filter: DeadLetterFilter): (entry: LedgerEntry) => boolean {
  const typeOk = filter.types === undefined ? undefined : typeMatcher(filter.types)
  const text = filter.error?.toLowerCase()
  return ({ record, status }) => {
    if (filter.status !== 'all' && status !== filter.status) return false
    if (filter.group !== undefined && record.group !== filter.group) return false
    if (typeOk !== undefined && (record.event === undefined || !typeOk(record.event.type))) {
      return false
    }
    if (text !== undefined) {
      const haystack = `${record.error.name}\n${record.error.message}\n${record.reason}`
      if (!haystack.toLowerCase().includes(text)) return false
    }
    const at = Date.parse(record.deadLetteredAt)
    if (filter.since !== undefined && !(at >= filter.since)) return false
    if (filter.until !== undefined && !(at <= filter.until)) return false
    return true
  }
}

/**
 * Sends an entry's original message back to its topic: the same headers, body and key, under a
 * fresh transport message id so brokers that de-duplicate on it (NATS) take it, as core's
 * `bus.deadLetters` replay does.
 */
export async function replayOriginal(ctx: GatewayContext, record: DeadLetterRecord): Promise<void> {
  const message: OutboundMessage = {
    id: `replay-${randomUUID()}`,
    key: record.message.key,
    headers: { ...record.message.headers },
    body: new Uint8Array(Buffer.from(record.message.body, 'base64')),
  }
  await ctx.bus.connect()
  await ctx.bus.transport.publish(record.topic, [message])
}

/** Records an action on an entry in the actions topic of its dead-letter topic. */
export async function recordAction(
  ctx: GatewayContext,
  deadLetterTopic: string,
  record: DeadLetterRecord,
  action: DeadLetterAction,
  principal: Principal,
): Promise<void> {
  const tenant = record.event?.tenantid
  await ctx.bus.publish(actionsTopic(deadLetterTopic), {
    type: DEAD_LETTER_ACTION_TYPE,
    subject: record.id,
    ...(tenant === undefined ? {} : { tenantid: tenant }),
    data: {
      action,
      dead_letter_id: record.id,
      event_id: record.event?.id ?? null,
      topic: record.topic,
      by: principal.subject ?? null,
    },
  })
}

/** Runs actions on one dead-letter topic one after another in this process (no double replay). */
export class ActionQueue {
  private readonly tails = new Map<string, Promise<unknown>>()

  run<T>(topic: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(topic) ?? Promise.resolve()
    const next = previous.then(work, work)
    const tail = next.catch(() => undefined)
    this.tails.set(topic, tail)
    void tail.then(() => {
      if (this.tails.get(topic) === tail) this.tails.delete(topic)
    })
    return next
  }
}
