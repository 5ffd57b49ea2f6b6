import type { JsonSchema } from '@switchyard/schemas'
import type { FastifyInstance } from 'fastify'
import { requireRole } from '../auth.js'
import { HttpProblem } from '../problem.js'
import { PROBLEMS, principalOf } from './common.js'

const VIEW = {
  type: 'object',
  properties: {
    event_type: { type: 'string' },
    version: { type: 'integer' },
    origin: { type: 'string' },
    schema: {},
    description: { type: 'string' },
    created_at: { type: 'string' },
  },
} as const

const TYPE_PARAMS = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 256 } },
} as const

/** APG's schema routes over the gateway's registry. */
export function schemaRoutes(app: FastifyInstance, _options: unknown, done: () => void): void {
  const ctx = app.switchyard
  app.get(
    '/api/v1/schemas',
    {
      schema: {
        summary: 'List event types with a schema (latest version of each)',
        tags: ['schemas'],
        querystring: {
          type: 'object',
          properties: { origin: { type: 'string' } },
        },
        response: {
          200: { type: 'object', properties: { schemas: { type: 'array', items: VIEW } } },
          ...PROBLEMS,
        },
      },
    },
    async (request) => {
      principalOf(request)
      const { origin } = request.query as { origin?: string }
      const all = ctx.schemas.list()
      return { schemas: origin === undefined ? all : all.filter((s) => s.origin === origin) }
    },
  )
  app.get(
    '/api/v1/schemas/:id',
    {
      schema: {
        summary: 'Get the schema of an event type (latest, or ?version=)',
        tags: ['schemas'],
        params: TYPE_PARAMS,
        querystring: { type: 'object', properties: { version: { type: 'integer', minimum: 1 } } },
        response: {
          200: {
            type: 'object',
            properties: {
              ...VIEW.properties,
              versions: { type: 'array', items: { type: 'integer' } },
            },
          },
          ...PROBLEMS,
        },
      },
    },
    async (request) => {
      principalOf(request)
      const { id } = request.params as { id: string }
      const { version } = request.query as { version?: number }
      const versions = ctx.schemas.get(id)
      if (versions === undefined) throw new HttpProblem(404, `No schema for event type "${id}"`)
      const view =
        version === undefined
          ? versions[versions.length - 1]
          : versions.find((v) => v.version === version)
      if (view === undefined) throw new HttpProblem(404, `"${id}" has no schema version ${version}`)
      return { ...view, versions: versions.map((v) => v.version) }
    },
  )
  app.post(
    '/api/v1/schemas',
    {
      schema: {
        summary: 'Register a schema version (admin); a breaking change is a 409',
        tags: ['schemas'],
        body: {
          type: 'object',
          required: ['event_type', 'schema'],
          additionalProperties: false,
          properties: {
            event_type: { type: 'string', minLength: 1, maxLength: 256 },
            schema: { anyOf: [{ type: 'object' }, { type: 'boolean' }] },
            version: { type: 'integer', minimum: 1 },
            description: { type: 'string', maxLength: 1000 },
          },
        },
        response: { 201: VIEW, ...PROBLEMS },
      },
    },
    async (request, reply) => {
      requireRole(principalOf(request), 'admin')
      const body = request.body as {
        event_type: string
        schema: JsonSchema
        version?: number
        description?: string
      }
      const view = await ctx.schemas.add({
        eventType: body.event_type,
        schema: body.schema,
        version: body.version,
        description: body.description,
      })
      return reply.code(201).send(view)
    },
  )
  done()
}
