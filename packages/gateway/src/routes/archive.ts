import { randomUUID } from 'node:crypto'
import { ConfigurationError, type EventEnvelope } from '@switchyard/core'
import type { EventQuery, EventStore, RecordedEvent, ReplayProgress } from '@switchyard/event-store'
import type { FastifyInstance } from 'fastify'
import { hasRole, type Principal, type Role, requireRole } from '../auth.js'
import type { GatewayContext } from '../context.js'
import { HttpProblem } from '../problem.js'
import { STREAM_ID_PATTERN } from '../streams.js'
import { PROBLEMS, principalOf } from './common.js'

const GLOBS = {
  type: 'array',
  maxItems: 20,
  items: { type: 'string', minLength: 1, maxLength: 200 },
}
const TEXT = { type: 'string', minLength: 1, maxLength: 500 }
const TIME = { type: 'string', format: 'date-time' }

const QUERY_BODY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    types: GLOBS,
    topics: GLOBS,
    source: TEXT,
    subject: TEXT,
    tenant: TEXT,
    aggregate_type: TEXT,
    aggregate_id: TEXT,
    stream_id: TEXT,
    time_from: TIME,
    time_to: TIME,
    direction: { type: 'string', enum: ['forward', 'backward'] },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    cursor: { type: 'string', pattern: '^[0-9]{1,16}$' },
  },
} as const

const REPLAY_BODY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    topic: { type: 'string', pattern: STREAM_ID_PATTERN },
    types: GLOBS,
    from_time: TIME,
    to_time: TIME,
    from_position: { type: 'integer', minimum: 1 },
    to_position: { type: 'integer', minimum: 1 },
    batch_size: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
  },
} as const

const STREAM_PARAMS = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: STREAM_ID_PATTERN } },
} as const

/** A replay as its status route shows it. */
interface ReplayJob {
  id: string
  stream: string
  topic: string
  tenant: string | undefined
  status: 'running' | 'completed' | 'failed'
  progress: ReplayProgress
  startedAt: string
  finishedAt: string | undefined
  error: string | undefined
}

/** Most replays remembered per gateway; the oldest finished ones are forgotten first. */
const MAX_JOBS = 200

/** An event as JSON: the CloudEvent (binary data as `data_base64`) and where the store keeps it. */
function eventView(recorded: RecordedEvent): Record<string, unknown> {
  const { event } = recorded
  const json: Record<string, unknown> =
    event.data instanceof Uint8Array
      ? { ...event, data: undefined, data_base64: Buffer.from(event.data).toString('base64') }
      : { ...event }
  return {
    event: json,
    position: recorded.position,
    stream_id: recorded.streamId ?? null,
    stream_version: recorded.streamVersion ?? null,
    topic: recorded.topic ?? null,
    recorded_at: recorded.recordedAt,
  }
}

/**
 * The topic globs a principal may read: undefined when a role of theirs covers every topic,
 * else the scopes of their subscriber and admin roles.
 */
function readableTopics(principal: Principal): string[] | undefined {
  const scopes: string[] = []
  for (const role of ['admin', 'subscriber'] as Role[]) {
    if (!principal.roles.has(role)) continue
    const scoped = principal.roles.get(role)
    if (scoped === undefined) return undefined
    scopes.push(...scoped)
  }
  return scopes
}

function canRead(principal: Principal, recorded: RecordedEvent): boolean {
  if (principal.tenant !== undefined && recorded.event.tenantid !== principal.tenant) return false
  if (readableTopics(principal) === undefined) return true
  return recorded.topic !== undefined && hasRole(principal, 'subscriber', recorded.topic)
}

/** The store's filter for a query body, narrowed to what the token may read. */
function queryOf(principal: Principal, body: Record<string, unknown>): EventQuery {
  const tenant = body.tenant as string | undefined
  if (principal.tenant !== undefined && tenant !== undefined && tenant !== principal.tenant) {
    throw new HttpProblem(403, `This token is scoped to tenant "${principal.tenant}"`)
  }
  let topics = body.topics as string[] | undefined
  const scopes = readableTopics(principal)
  if (scopes !== undefined) {
    if (topics === undefined) topics = scopes
    else if (!topics.every((t) => hasRole(principal, 'subscriber', t))) {
      throw new HttpProblem(403, 'This token may not read every topic the query names')
    }
  }
  const query: Record<string, unknown> = {
    types: body.types,
    topics,
    source: body.source,
    subject: body.subject,
    tenant: principal.tenant ?? tenant,
    aggregateType: body.aggregate_type,
    aggregateId: body.aggregate_id,
    streamId: body.stream_id,
    timeFrom: body.time_from,
    timeTo: body.time_to,
    direction: body.direction,
    limit: body.limit,
    after: body.cursor === undefined ? undefined : Number(body.cursor),
  }
  for (const key of Object.keys(query)) if (query[key] === undefined) delete query[key]
  return query as EventQuery
}

function jobView(job: ReplayJob): Record<string, unknown> {
  return {
    replay_id: job.id,
    stream: job.stream,
    topic: job.topic,
    status: job.status,
    total: job.progress.total,
    published: job.progress.published,
    last_position: job.progress.lastPosition ?? null,
    started_at: job.startedAt,
    finished_at: job.finishedAt ?? null,
    error: job.error ?? null,
  }
}

/** Starts a replay in the background; its status route reports the progress. */
function startReplay(
  ctx: GatewayContext,
  store: EventStore,
  job: ReplayJob,
  query: EventQuery,
  batchSize: number,
): void {
  const target = {
    publishBatch: async (topic: string, events: EventEnvelope[]) => {
      await ctx.bus.publishBatch(topic, events)
      for (const e of events) ctx.streams.published(topic, e.tenantid, 1)
    },
  }
  store
    .replay(target, {
      query,
      topic: job.topic,
      batchSize,
      onProgress: (p) => {
        job.progress = p
      },
    })
    .then((progress) => {
      job.progress = progress
      job.status = 'completed'
    })
    .catch((error: Error) => {
      job.status = 'failed'
      // The name and message say what failed; no stack, nothing from the request.
      job.error = `${error.name}: ${error.message}`
    })
    .finally(() => {
      job.finishedAt = new Date().toISOString()
    })
}

/**
 * The event store's routes (APG's event sourcing and replay): one event by id, queries over
 * everything appended or archived, and replays of a stream's archived events to a topic.
 */
export function archiveRoutes(
  app: FastifyInstance,
  options: { store: EventStore },
  done: () => void,
): void {
  const ctx = app.switchyard
  const store = options.store
  const jobs = new Map<string, ReplayJob>()
  app.get(
    '/api/v1/events/:id',
    {
      schema: {
        summary: 'One stored event by id (appended or archived), with its position',
        tags: ['events'],
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', minLength: 1, maxLength: 500 } },
        },
        response: PROBLEMS,
      },
    },
    async (request) => {
      const principal = principalOf(request)
      requireRole(principal, 'subscriber')
      const { id } = request.params as { id: string }
      const tenant = principal.tenant === undefined ? {} : { tenant: principal.tenant }
      const found = await store.getEvent(id, tenant)
      // Another tenant's event, or one of a topic the token may not read, is not there for it.
      if (found === undefined || !canRead(principal, found)) {
        throw new HttpProblem(404, `No event "${id}" visible to this token`)
      }
      return eventView(found)
    },
  )
  app.post(
    '/api/v1/events/query',
    {
      schema: {
        summary:
          'Query stored events: type globs, source, subject, tenant, aggregate, time range; keyset-paged',
        tags: ['events'],
        body: QUERY_BODY,
        response: PROBLEMS,
      },
    },
    async (request) => {
      const principal = principalOf(request)
      requireRole(principal, 'subscriber')
      const page = await store
        .queryEvents(queryOf(principal, request.body as Record<string, unknown>))
        .catch(invalidQuery)
      return {
        events: page.events.map(eventView),
        next_cursor: page.next === undefined ? null : String(page.next),
      }
    },
  )
  app.post(
    '/api/v1/streams/:id/replay',
    {
      schema: {
        summary: "Publish a time or position range of a stream's stored events again, to a topic",
        tags: ['streams'],
        params: STREAM_PARAMS,
        body: REPLAY_BODY,
        response: PROBLEMS,
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      const { id } = request.params as { id: string }
      const body = (request.body ?? {}) as Record<string, unknown>
      const topic = (body.topic as string | undefined) ?? id
      requireRole(principal, 'subscriber', id)
      requireRole(principal, 'publisher', topic)
      if ((await ctx.streams.get(id)) === undefined) {
        throw new HttpProblem(404, `Stream "${id}" does not exist`)
      }
      await ctx.streams.forPublish(topic, principal)
      const query: Record<string, unknown> = {
        topics: [id],
        types: body.types,
        tenant: principal.tenant,
        timeFrom: body.from_time,
        timeTo: body.to_time,
        fromPosition: body.from_position,
        toPosition: body.to_position,
      }
      for (const key of Object.keys(query)) if (query[key] === undefined) delete query[key]
      const job: ReplayJob = {
        id: randomUUID(),
        stream: id,
        topic,
        tenant: principal.tenant,
        status: 'running',
        progress: { total: 0, published: 0, lastPosition: undefined },
        startedAt: new Date().toISOString(),
        finishedAt: undefined,
        error: undefined,
      }
      forgetOld(jobs)
      jobs.set(job.id, job)
      startReplay(
        ctx,
        store,
        job,
        query as EventQuery,
        (body.batch_size as number | undefined) ?? 100,
      )
      return reply
        .code(202)
        .header('location', `/api/v1/streams/${id}/replays/${job.id}`)
        .send({ ...jobView(job), status_url: `/api/v1/streams/${id}/replays/${job.id}` })
    },
  )
  app.get(
    '/api/v1/streams/:id/replays/:replay_id',
    {
      schema: {
        summary: 'Progress of a replay',
        tags: ['streams'],
        params: {
          type: 'object',
          required: ['id', 'replay_id'],
          properties: {
            id: { type: 'string', pattern: STREAM_ID_PATTERN },
            replay_id: { type: 'string', maxLength: 100 },
          },
        },
        response: PROBLEMS,
      },
    },
    async (request) => {
      const principal = principalOf(request)
      const { id, replay_id } = request.params as { id: string; replay_id: string }
      requireRole(principal, 'subscriber', id)
      const job = jobs.get(replay_id)
      const visible =
        job !== undefined &&
        job.stream === id &&
        (principal.tenant === undefined || principal.tenant === job.tenant)
      if (!visible) throw new HttpProblem(404, `No replay "${replay_id}" of stream "${id}"`)
      return jobView(job)
    },
  )
  done()
}

/** A query the store refused as malformed is the client's error, said as such. */
function invalidQuery(error: unknown): never {
  if (error instanceof ConfigurationError)
    throw new HttpProblem(400, `Invalid query: ${error.message}`)
  throw error
}

function forgetOld(jobs: Map<string, ReplayJob>): void {
  if (jobs.size < MAX_JOBS) return
  for (const [key, job] of jobs) {
    if (job.status !== 'running') jobs.delete(key)
    if (jobs.size < MAX_JOBS) return
  }
  throw new HttpProblem(429, `${MAX_JOBS} replays are running; try again when one finished`, {
    headers: { 'retry-after': '5' },
  })
}
