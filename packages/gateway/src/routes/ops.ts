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
      return app.swagger()
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
