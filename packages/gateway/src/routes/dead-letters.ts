import type { DeadLetterRecord, EventEnvelope } from '@switchyard/core'
import type { FastifyInstance } from 'fastify'
import { type Principal, requireRole } from '../auth.js'
import type { GatewayContext } from '../context.js'
import { HttpProblem } from '../problem.js'
import { STREAM_ID_PATTERN } from '../streams.js'
import { PROBLEMS, principalOf } from './common.js'
import {
  ActionQueue,
  type DeadLetterAction,
  type DeadLetterFilter,
  type LedgerEntry,
  matcher,
  readLedger,
  recordAction,
  replayOriginal,
  visibleTo,
} from './dead-letter-ledger.js'

const ID_PARAMS = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: STREAM_ID_PATTERN } },
} as const

const LIST_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    type: { type: 'string', description: 'Comma-separated globs of the original event type' },
    error: { type: 'string', description: 'Text in the error name, message or reason' },
    since: { type: 'string', description: 'Dead-lettered at or after (RFC 3339)' },
    until: { type: 'string', description: 'Dead-lettered at or before (RFC 3339)' },
    group: { type: 'string', description: 'The consumer group that gave up' },
    status: { type: 'string', enum: ['open', 'replayed', 'discarded', 'all'], default: 'open' },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
  },
} as const

const ACTION_BODY = {
  type: 'object',
  required: ['ids'],
  additionalProperties: false,
  properties: {
    ids: {
      type: 'array',
      minItems: 1,
      maxItems: 1000,
      uniqueItems: true,
      items: { type: 'string', minLength: 1 },
    },
    force: {
      type: 'boolean',
      default: false,
      description: 'Act on entries that were replayed or discarded before, too',
    },
  },
} as const

const ACTION_RESULT = {
  type: 'object',
  properties: {
    done: { type: 'array', items: { type: 'string' } },
    skipped: {
      type: 'array',
      items: {
        type: 'object',
        properties: { id: { type: 'string' }, reason: { type: 'string' } },
      },
    },
    failed: {
      type: 'array',
      items: {
        type: 'object',
        properties: { id: { type: 'string' }, detail: { type: 'string' } },
      },
    },
  },
} as const

/** The dead-letter topic of a stream, as the bus names it by default and the metrics route shows. */
function deadLetterTopicOf(stream: string): string {
  return `${stream}.dlq`
}

function time(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined
  const ms = Date.parse(raw)
  if (Number.isNaN(ms)) throw new HttpProblem(400, `${name} must be a date and time (RFC 3339)`)
  return ms
}

function typesOf(raw: string | undefined): string[] | undefined {
  const types = raw
    ?.split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
  return types === undefined || types.length === 0 ? undefined : types
}

/** An entry as listed: what an operator scans a table for. */
function summary({ record, marks, status }: LedgerEntry): Record<string, unknown> {
  const event = record.event
  const error: Record<string, unknown> = { name: record.error.name, message: record.error.message }
  if (record.error.code !== undefined) error.code = record.error.code
  return {
    id: record.id,
    event_id: event?.id ?? null,
    type: event?.type ?? null,
    subject: event?.subject ?? null,
    source: event?.source ?? null,
    tenant: event?.tenantid ?? null,
    topic: record.topic,
    group: record.group,
    reason: record.reason,
    error,
    attempts: record.attempts,
    dead_lettered_at: record.deadLetteredAt,
    status,
    actions: marks,
  }
}

/** An event as JSON: binary data as `data_base64`, as in the CloudEvents JSON format. */
function jsonView(event: EventEnvelope): unknown {
  if (!(event.data instanceof Uint8Array)) return event
  const { data, ...rest } = event
  return { ...rest, data_base64: Buffer.from(data).toString('base64') }
}

/** One entry in full: the original event, the error with its issues, the message headers. */
function detail(entry: LedgerEntry): Record<string, unknown> {
  const { record } = entry
  const view = summary(entry)
  if (record.error.issues !== undefined) {
    view.error = { ...(view.error as object), issues: record.error.issues }
  }
  view.event = record.event === undefined ? null : jsonView(record.event)
  view.message = {
    headers: record.message.headers,
    key: record.message.key ?? null,
    // Without a decoded event the bytes are all there is to look at.
    ...(record.event === undefined ? { body_base64: record.message.body } : {}),
  }
  view.position = record.position ?? null
  return view
}

/**
 * The dead-letter routes of a stream: list with filters, show one, replay or discard some.
 * Reading needs the `subscriber` role, acting the `admin` role, on the stream; a tenant's token
 * sees and touches only entries whose original event is of its tenant.
 */
export function deadLetterRoutes(app: FastifyInstance, _options: unknown, done: () => void): void {
  const ctx = app.switchyard
  const queue = new ActionQueue()

  async function stream(id: string): Promise<string> {
    if ((await ctx.streams.get(id)) === undefined) {
      throw new HttpProblem(404, `Stream "${id}" does not exist`)
    }
    return deadLetterTopicOf(id)
  }

  app.get(
    '/api/v1/streams/:id/dead-letters',
    {
      schema: {
        summary: "List a stream's dead letters, newest first, with filters",
        tags: ['dead-letters'],
        params: ID_PARAMS,
        querystring: LIST_QUERY,
        response: PROBLEMS,
      },
    },
    async (request) => {
      const { id } = request.params as { id: string }
      const query = request.query as Record<string, string | undefined> & { limit: number }
      const principal = principalOf(request)
      requireRole(principal, 'subscriber', id)
      const filter: DeadLetterFilter = {
        types: typesOf(query.type),
        error: query.error === undefined || query.error === '' ? undefined : query.error,
        since: time(query.since, 'since'),
        until: time(query.until, 'until'),
        group: query.group === undefined || query.group === '' ? undefined : query.group,
        status: (query.status ?? 'open') as DeadLetterFilter['status'],
      }
      const topic = await stream(id)
      const ledger = await readLedger(ctx, topic)
      const wanted = matcher(filter)
      const matched = ledger.entries
        .filter((e) => visibleTo(principal, e.record) && wanted(e))
        .reverse()
      return {
        stream: id,
        dead_letter_topic: topic,
        matched: matched.length,
        entries: matched.slice(0, query.limit).map(summary),
        scanned: ledger.scanned,
        complete: ledger.complete,
      }
    },
  )

  app.get(
    '/api/v1/streams/:id/dead-letters/:entry',
    {
      schema: {
        summary: 'One dead letter with its original event, error and reason',
        tags: ['dead-letters'],
        params: {
          type: 'object',
          required: ['id', 'entry'],
          properties: { id: ID_PARAMS.properties.id, entry: { type: 'string', minLength: 1 } },
        },
        response: PROBLEMS,
      },
    },
    async (request) => {
      const { id, entry } = request.params as { id: string; entry: string }
      const principal = principalOf(request)
      requireRole(principal, 'subscriber', id)
      const ledger = await readLedger(ctx, await stream(id))
      const found = ledger.entries.find((e) => e.record.id === entry)
      // Another tenant's entry is answered as missing: its existence is not this token's to know.
      if (found === undefined || !visibleTo(principal, found.record)) {
        throw new HttpProblem(404, `No dead letter "${entry}" on stream "${id}"`)
      }
      return detail(found)
    },
  )

  for (const action of ['replay', 'discard'] as const) {
    app.post(
      `/api/v1/streams/:id/dead-letters/${action}`,
      {
        schema: {
          summary:
            action === 'replay'
              ? 'Send dead letters back to their topic, byte for byte (admin)'
              : 'Mark dead letters as discarded; they leave the open list (admin)',
          tags: ['dead-letters'],
          params: ID_PARAMS,
          body: ACTION_BODY,
          response: { 200: ACTION_RESULT, ...PROBLEMS },
        },
      },
      async (request) => {
        const { id } = request.params as { id: string }
        const { ids, force } = request.body as { ids: string[]; force: boolean }
        const principal = principalOf(request)
        requireRole(principal, 'admin', id)
        const topic = await stream(id)
        const done = action === 'replay' ? 'replayed' : 'discarded'
        return queue.run(topic, () => act(ctx, topic, ids, done, force, principal))
      },
    )
  }
  done()
}

/** Replays or discards the entries `ids` of `topic`; each entry's outcome is reported. */
async function act(
  ctx: GatewayContext,
  topic: string,
  ids: string[],
  action: DeadLetterAction,
  force: boolean,
  principal: Principal,
): Promise<{
  done: string[]
  skipped: { id: string; reason: string }[]
  failed: { id: string; detail: string }[]
}> {
  const ledger = await readLedger(ctx, topic)
  const byId = new Map(ledger.entries.map((e) => [e.record.id, e]))
  const result = {
    done: [] as string[],
    skipped: [] as { id: string; reason: string }[],
    failed: [] as { id: string; detail: string }[],
  }
  for (const id of ids) {
    const entry = byId.get(id)
    if (entry === undefined || !visibleTo(principal, entry.record)) {
      result.skipped.push({ id, reason: 'not found' })
      continue
    }
    if (entry.status !== 'open' && !force) {
      result.skipped.push({ id, reason: `already ${entry.status} (force to ${action} again)` })
      continue
    }
    const record: DeadLetterRecord = entry.record
    if (action === 'replayed') {
      try {
        await replayOriginal(ctx, record)
      } catch (error) {
        result.failed.push({
          id,
          detail: `publishing to "${record.topic}" failed: ${nameOf(error)}`,
        })
        continue
      }
    }
    try {
      await recordAction(ctx, topic, record, action, principal)
      result.done.push(id)
    } catch (error) {
      // A replay that went out counts as done: a retry of it would send the event twice.
      if (action === 'replayed') result.done.push(id)
      result.failed.push({ id, detail: `recording the ${action} mark failed: ${nameOf(error)}` })
    }
  }
  return result
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : 'error'
}
