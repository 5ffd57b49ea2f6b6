import type { FastifyInstance } from 'fastify'
import { requireRole } from '../auth.js'
import { HttpProblem } from '../problem.js'
import { PROBLEMS, principalOf } from './common.js'
import { DOCS_PAGE } from './docs-page.js'

const COMPONENT = {
  type: 'object',
  properties: { status: { type: 'string', enum: ['up', 'down'] }, detail: { type: 'string' } },
} as const

const HEALTH = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['up', 'down'] },
    components: {
      type: 'object',
      properties: { broker: COMPONENT, database: COMPONENT },
    },
  },
} as const

/** Health, status, Prometheus metrics, the OpenAPI document and the docs page. */
export function opsRoutes(app: FastifyInstance, _options: unknown, done: () => void): void {
  const ctx = app.switchyard
  app.get(
    '/health',
    {
      config: { public: true },
      schema: {
        summary: 'Health per component (broker, database); 503 when one is down',
        tags: ['operations'],
        security: [],
        response: { 200: HEALTH, 503: HEALTH },
      },
    },
    async (_request, reply) => {
      const [bus, database] = await Promise.all([ctx.bus.health(), ctx.store.health()])
      // Details of a failure may name hosts; /health is public, so it says up or down only.
      const broker = { status: bus.status }
      const db = { status: database.status }
      const status = bus.status === 'up' && database.status === 'up' ? 'up' : 'down'
      return reply
        .code(status === 'up' ? 200 : 503)
        .send({ status, components: { broker, database: db } })
    },
  )
  app.get(
    '/api/v1/status',
    { schema: { summary: 'Gateway status', tags: ['operations'], response: PROBLEMS } },
    async (request) => {
      principalOf(request)
      const [bus, database, streams] = await Promise.all([
        ctx.bus.health(),
        ctx.store.health(),
        ctx.streams.list(),
      ])
      return {
        status: bus.status === 'up' && database.status === 'up' ? 'up' : 'down',
        uptime_seconds: Math.round((Date.now() - ctx.startedAt) / 1000),
        transport: { name: bus.transport.name, status: bus.transport.status },
        database: { kind: ctx.store.kind, status: database.status },
        streams: streams.length,
        schemas: ctx.schemas.list().length,
        metrics_enabled: ctx.metrics !== undefined,
        rate_limited: ctx.limiter !== undefined,
      }
    },
  )
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics (admin)',
        tags: ['operations'],
        produces: ['text/plain'],
      },
    },
    async (request, reply) => {
      requireRole(principalOf(request), 'admin')
      if (ctx.metrics === undefined) {
        throw new HttpProblem(404, 'Metrics are not enabled on this gateway (METRICS_ENABLED)')
      }
      return reply.type('text/plain; version=0.0.4; charset=utf-8').send(await ctx.metrics.scrape())
    },
  )
  app.get(
    '/openapi.json',
    { schema: { summary: 'This API as OpenAPI 3.1', tags: ['operations'] } },
    async (request) => {
      principalOf(request)
      const doc = app.swagger() as { paths?: Record<string, unknown> }
      // @fastify/websocket hides WebSocket routes from the document: described here by hand.
      return { ...doc, paths: { ...doc.paths, ...WEBSOCKET_PATHS } }
    },
  )
  app.get(
    '/docs',
    {
      config: { public: true },
      schema: {
        summary: 'API documentation page (holds no data; it asks for a token to load the API)',
        tags: ['operations'],
        security: [],
        produces: ['text/html'],
      },
    },
    async (_request, reply) => reply.type('text/html; charset=utf-8').send(DOCS_PAGE),
  )
  done()
}

const upgrade = (summary: string, parameters: unknown[]) => ({
  get: {
    summary,
    tags: ['live'],
    description:
      'A WebSocket upgrade (GET with `Upgrade: websocket`). The bearer token goes in the ' +
      '`Authorization` header, or for browsers as the subprotocols `["switchyard.bearer", <token>]`.',
    parameters,
    responses: {
      '101': { description: 'Switching protocols: JSON frames follow' },
      '401': { description: 'No valid bearer token' },
      '403': { description: 'The token lacks the role or the stream' },
    },
  },
})

const query = (name: string, description: string) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema: { type: 'string' },
})

/** The WebSocket routes, for `/openapi.json`. */
const WEBSOCKET_PATHS = {
  '/ws/events/{stream}': upgrade('Live events of a stream (subscriber)', [
    { name: 'stream', in: 'path', required: true, schema: { type: 'string' } },
    query('types', 'Comma-separated type globs'),
    query('from', '`earliest` to replay what is retained first'),
    query('after_id', 'Resume after this event id'),
    query('from_sequence', 'Resume from this sequence (shown in each frame)'),
    query('from_time', 'Resume from this time (RFC 3339)'),
  ]),
  '/ws/monitoring': upgrade('Status and stream metrics every second', [
    query('streams', 'Comma-separated streams whose metrics are pushed'),
  ]),
}
