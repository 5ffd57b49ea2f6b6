import type { EventInput } from '@switchyard/core'
import { createSchemaRegistry } from '@switchyard/schemas'
import { HttpProblem } from '../problem.js'
import { STREAM_ID_PATTERN } from '../streams.js'
import { DEFAULT_SOURCE, type Outgoing } from './outgoing.js'

const text = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength })

/** APG's event, as `POST /api/v1/events` accepts it. */
export const APG_EVENT_SCHEMA = {
  type: 'object',
  required: ['event_type', 'stream_id', 'payload'],
  additionalProperties: false,
  properties: {
    event_type: text(256),
    source_capability: text(256),
    aggregate_id: text(256),
    aggregate_type: text(256),
    payload: {},
    stream_id: { type: 'string', pattern: STREAM_ID_PATTERN },
    tenant_id: text(256),
    user_id: text(256),
    correlation_id: text(256),
    causation_id: text(256),
    event_id: text(256),
  },
} as const

/** APG's batch: `{ "events": [...] }` (a bare array is accepted too). */
export const APG_BATCH_SCHEMA = {
  type: 'object',
  required: ['events'],
  additionalProperties: false,
  properties: { events: { type: 'array', minItems: 1, maxItems: 1000, items: APG_EVENT_SCHEMA } },
} as const

/** Anumate's event, as `POST /events/publish?source=...` accepts it. */
export const ANUMATE_EVENT_SCHEMA = {
  type: 'object',
  required: ['event_type', 'data'],
  additionalProperties: false,
  properties: {
    event_type: text(256),
    data: {},
    tenant_id: text(256),
    correlation_id: text(256),
    causation_id: text(256),
    subject: text(256),
    stream_id: { type: 'string', pattern: STREAM_ID_PATTERN },
  },
} as const

// Request bodies are checked with the same registry machinery events are (ajv, issues in words).
const bodies = createSchemaRegistry({ maxIssues: 20 })
  .register('apg.event', APG_EVENT_SCHEMA)
  .register('apg.batch', APG_BATCH_SCHEMA)
  .register('anumate.event', ANUMATE_EVENT_SCHEMA)

/** Checks a request body. @throws {HttpProblem} 400 listing every failing path. */
export function checkBody(kind: 'apg.event' | 'apg.batch' | 'anumate.event', body: unknown): void {
  const result = bodies.check(kind, body)
  if (result.ok) return
  const issues = result.issues.map((i) => ({ ...i, path: i.path.replace(/^data\.?/, 'body.') }))
  throw new HttpProblem(
    400,
    `Invalid request body: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    {
      extra: { issues },
    },
  )
}

type ApgEvent = {
  event_type: string
  stream_id: string
  payload: unknown
  source_capability?: string
  aggregate_id?: string
  aggregate_type?: string
  tenant_id?: string
  user_id?: string
  correlation_id?: string
  causation_id?: string
  event_id?: string
}

/** An APG event as an envelope: aggregate id → subject and partition key, payload → data. */
export function fromApg(body: unknown): Outgoing {
  const e = body as ApgEvent
  const event: EventInput = { type: e.event_type, source: e.source_capability ?? DEFAULT_SOURCE }
  if (e.payload !== undefined) event.data = e.payload
  if (e.event_id !== undefined) event.id = e.event_id
  if (e.aggregate_id !== undefined) {
    event.subject = e.aggregate_id
    event.partitionkey = e.aggregate_id
  }
  if (e.tenant_id !== undefined) event.tenantid = e.tenant_id
  if (e.correlation_id !== undefined) event.correlationid = e.correlation_id
  if (e.causation_id !== undefined) event.causationid = e.causation_id
  const extensions: Record<string, string> = {}
  if (e.aggregate_type !== undefined) extensions.aggregatetype = e.aggregate_type
  if (e.user_id !== undefined) extensions.userid = e.user_id
  if (Object.keys(extensions).length > 0) event.extensions = extensions
  return { stream: e.stream_id, event }
}

/** The events of an APG batch body. */
export function fromApgBatch(body: unknown): Outgoing[] {
  const wrapped = Array.isArray(body) ? { events: body } : body
  checkBody('apg.batch', wrapped)
  return (wrapped as { events: unknown[] }).events.map(fromApg)
}
