import { type EventEnvelope, readDeadLetter } from '@switchyard/core'
import type { FastifyInstance } from 'fastify'
import { hasRole, type Principal, requireRole } from '../auth.js'
import type { GatewayContext } from '../context.js'
import { HttpProblem } from '../problem.js'
import type { StreamDefinition } from '../state/store.js'
import { STREAM_ID_PATTERN } from '../streams.js'
import { PROBLEMS, principalOf } from './common.js'
import { decodeRetained } from './retained.js'

const STREAM_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    description: { type: 'string' },
    partitions: { type: 'integer' },
    retention_ms: { type: 'integer' },
    compression: { type: 'string' },
    cleanup_policy: { type: 'string' },
    created_at: { type: 'string' },
    created_by: { type: 'string' },
  },
} as const

const CREATED_SCHEMA = {
  type: 'object',
  properties: {
    ...STREAM_SCHEMA.properties,
    broker: {
      type: 'object',
      description: 'What the broker did: created the topic or found it, and which settings it took',
      properties: {
        created: { type: 'boolean' },
        applied: { type: 'array', items: { type: 'string' } },
        ignored: { type: 'array', items: { type: 'string' } },
      },
    },
  },
} as const

const CREATE_SCHEMA = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: STREAM_ID_PATTERN },
    description: { type: 'string', maxLength: 1000 },
    partitions: { type: 'integer', minimum: 1, maximum: 10000 },
    retention_ms: { type: 'integer', minimum: 1 },
    compression: { type: 'string', enum: ['none', 'gzip', 'snappy', 'lz4', 'zstd'] },
    cleanup_policy: { type: 'string', enum: ['delete', 'compact'] },
  },
} as const

const ID_PARAMS = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: STREAM_ID_PATTERN } },
} as const

/** A stream as the API shows it (snake_case, as APG's). */
export function streamView(s: StreamDefinition): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: s.id,
    partitions: s.partitions,
    created_at: s.createdAt,
  }
  if (s.description !== undefined) view.description = s.description
  if (s.retentionMs !== undefined) view.retention_ms = s.retentionMs
  if (s.compression !== undefined) view.compression = s.compression
  if (s.cleanupPolicy !== undefined) view.cleanup_policy = s.cleanupPolicy
  if (s.createdBy !== undefined) view.created_by = s.createdBy
  return view
}

async function existing(ctx: GatewayContext, id: string): Promise<StreamDefinition> {
  const stream = await ctx.streams.get(id)
  if (stream === undefined) throw new HttpProblem(404, `Stream "${id}" does not exist`)
  return stream
}

/** An event as JSON: binary data as `data_base64`, as in the CloudEvents JSON format. */
function jsonView(event: EventEnvelope): unknown {
  if (!(event.data instanceof Uint8Array)) return event
  const { data, ...rest } = event
  return { ...rest, data_base64: Buffer.from(data).toString('base64') }
}

/** Only the events a principal may see: its tenant's, or all for a token of no tenant. */
function visible(principal: Principal, event: EventEnvelope): boolean {
  return principal.tenant === undefined || event.tenantid === principal.tenant
}

/** APG's stream routes. */
export function streamRoutes(app: FastifyInstance, _options: unknown, done: () => void): void {
  const ctx = app.switchyard
  app.get(
    '/api/v1/streams',
    {
      schema: {
        summary: 'List streams',
        tags: ['streams'],
        response: {
          200: { type: 'object', properties: { streams: { type: 'array', items: STREAM_SCHEMA } } },
          ...PROBLEMS,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request)
      const streams = (await ctx.streams.list()).filter(
        (s) => hasRole(principal, 'subscriber', s.id) || hasRole(principal, 'publisher', s.id),
      )
      return { streams: streams.map(streamView) }
    },
  )
  app.post(
    '/api/v1/streams',
    {
      schema: {
        summary: 'Create a stream (admin)',
        tags: ['streams'],
        body: CREATE_SCHEMA,
        response: { 201: CREATED_SCHEMA, ...PROBLEMS },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      const body = request.body as {
        id: string
        description?: string
        partitions?: number
        retention_ms?: number
        compression?: string
        cleanup_policy?: string
      }
      requireRole(principal, 'admin', body.id)
      const input = {
        id: body.id,
        description: body.description,
        partitions: body.partitions,
        retentionMs: body.retention_ms,
        compression: body.compression,
        cleanupPolicy: body.cleanup_policy,
      }
      if ((await ctx.streams.get(body.id)) !== undefined) {
        throw new HttpProblem(409, `Stream "${body.id}" exists already`)
      }
      // The broker's topic first: a stream is stored only once its topic exists with its settings.
      const { topic: _topic, ...broker } = await ctx.streams.provision(input)
      const created = await ctx.streams.create(input, principal.subject)
      if (created === undefined) throw new HttpProblem(409, `Stream "${body.id}" exists already`)
      return reply.code(201).send({ ...streamView(created), broker })
    },
  )
  app.get(
    '/api/v1/streams/:id',
    {
      schema: {
        summary: 'Get a stream',
        tags: ['streams'],
        params: ID_PARAMS,
        response: { 200: STREAM_SCHEMA, ...PROBLEMS },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string }
      const principal = principalOf(request)
      if (!hasRole(principal, 'publisher', id)) requireRole(principal, 'subscriber', id)
      return streamView(await existing(ctx, id))
    },
  )
  app.get(
    '/api/v1/streams/:id/events',
    {
      schema: {
        summary: "Browse a stream's retained events (oldest first), paged",
        tags: ['streams'],
        params: ID_PARAMS,
        querystring: {
          type: 'object',
          properties: {
            offset: { type: 'integer', minimum: 0, default: 0 },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string }
      const { offset, limit } = request.query as { offset: number; limit: number }
      const principal = principalOf(request)
      requireRole(principal, 'subscriber', id)
      await existing(ctx, id)
      const { events, scanned, complete } = await decodeRetained(ctx, id, ctx.browseMax)
      const mine = events.filter((e) => visible(principal, e))
      const page = mine.slice(offset, offset + limit)
      const next = offset + page.length < mine.length ? offset + page.length : null
      const shown = page.map(jsonView)
      return { stream: id, offset, limit, events: shown, next_offset: next, scanned, complete }
    },
  )
  app.get(
    '/api/v1/streams/:id/metrics',
    {
      schema: {
        summary: 'What the gateway and the bus can tell about a stream',
        tags: ['streams'],
        params: ID_PARAMS,
      },
    },
    async (request) => {
      const { id } = request.params as { id: string }
      const principal = principalOf(request)
      if (!hasRole(principal, 'publisher', id)) requireRole(principal, 'subscriber', id)
      await existing(ctx, id)
      const retained = await decodeRetained(ctx, id, ctx.browseMax)
      const dlqTopic = `${id}.dlq`
      const dead = await decodeRetained(ctx, dlqTopic, ctx.browseMax)
      const deadMine = dead.events.filter((e) => {
        if (principal.tenant === undefined) return true
        try {
          const original = readDeadLetter(e).event
          return original !== undefined && visible(principal, original)
        } catch {
          return false
        }
      })
      const published = ctx.streams.publishStats(id, principal.tenant)
      const groups = await consumerGroups(ctx, id, principal.tenant)
      return {
        stream: id,
        tenant: principal.tenant ?? null,
        published_total: published.total,
        publish_rate_per_second: published.ratePerSecond,
        retained_count: retained.events.filter((e) => visible(principal, e)).length,
        retained_count_complete: retained.complete,
        dead_letter_topic: dlqTopic,
        dead_letter_depth: deadMine.length,
        consumer_groups: groups.groups,
        unavailable: groups.unavailable,
      }
    },
  )
  done()
}

/**
 * Per-group figures from `bus.inspect()`. Groups read every tenant's events, so their figures
 * are shown to unscoped tokens only.
 */
async function consumerGroups(
  ctx: GatewayContext,
  stream: string,
  tenant: string | undefined,
): Promise<{ groups: Array<Record<string, unknown>> | null; unavailable: string[] }> {
  if (tenant !== undefined) {
    return { groups: null, unavailable: ['consumer_groups (they span every tenant)'] }
  }
  if (ctx.bus.transport.inspect === undefined) {
    return {
      groups: null,
      unavailable: [`consumer_groups (${ctx.bus.transport.name} cannot be inspected)`],
    }
  }
  const [topic] = (await ctx.bus.inspect(stream)).topics
  const groups = (topic?.groups ?? []).map((g) => ({
    group: g.group,
    lag: g.lag,
    pending: g.pending,
    oldest_unsettled_age_ms: g.oldestUnsettledAgeMs,
    dead_lettered: g.deadLettered,
  }))
  return { groups, unavailable: [] }
}
