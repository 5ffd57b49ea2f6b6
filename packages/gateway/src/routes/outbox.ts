import { listParked, outboxStatus, type Queryable, requeueParked } from '@switchyard/outbox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { requireRole } from '../auth.js'
import { HttpProblem } from '../problem.js'
import { PROBLEMS, principalOf } from './common.js'

/** The transactional outbox the gateway reports on (the `outbox` table of `@switchyard/outbox`). */
export interface OutboxSource {
  /** The database holding the outbox table: a `pg` Pool or a PGlite instance. */
  db: Queryable
  /** The outbox table's name. @default 'outbox' */
  table?: string
}

/**
 * The outbox is shared by every tenant of a service: only an admin token of no tenant may look
 * at it or requeue from it.
 */
function operator(request: FastifyRequest): void {
  const principal = principalOf(request)
  requireRole(principal, 'admin')
  if (principal.tenant !== undefined) {
    throw new HttpProblem(
      403,
      'The outbox holds every tenant’s events: it needs a token of no tenant',
    )
  }
}

/** `/api/v1/outbox`: backlog, parked rows, and requeueing them once the cause is fixed. */
export function outboxRoutes(
  app: FastifyInstance,
  options: { outbox?: OutboxSource | undefined },
  done: () => void,
): void {
  const source = options.outbox
  const table = source?.table === undefined ? {} : { table: source.table }
  const db = (): Queryable => {
    if (source === undefined) {
      throw new HttpProblem(404, 'This gateway has no outbox configured (the outbox option)')
    }
    return source.db
  }
  app.get(
    '/api/v1/outbox',
    {
      schema: {
        summary: 'Outbox backlog: pending and parked rows and their age (admin of no tenant)',
        tags: ['outbox'],
        response: PROBLEMS,
      },
    },
    async (request) => {
      operator(request)
      const status = await outboxStatus(db(), table)
      return {
        pending: status.pending,
        pending_lag_ms: Math.round(status.pendingLagMs),
        parked: status.parked,
        parked_lag_ms: Math.round(status.parkedLagMs),
      }
    },
  )
  app.get(
    '/api/v1/outbox/parked',
    {
      schema: {
        summary: 'Rows the relay gave up on, oldest first (admin of no tenant)',
        tags: ['outbox'],
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        },
        response: PROBLEMS,
      },
    },
    async (request) => {
      operator(request)
      const { limit } = request.query as { limit: number }
      const rows = await listParked(db(), { ...table, limit })
      return {
        parked: rows.map((r) => ({
          id: r.id,
          topic: r.topic,
          partition_key: r.partitionKey,
          attempts: r.attempts,
          last_error: r.lastError,
          created_at: r.createdAt.toISOString(),
          parked_at: r.parkedAt.toISOString(),
        })),
      }
    },
  )
  app.post(
    '/api/v1/outbox/parked/requeue',
    {
      schema: {
        summary: 'Put parked rows back in line with a fresh attempt budget (admin of no tenant)',
        tags: ['outbox'],
        body: {
          type: 'object',
          required: ['ids'],
          additionalProperties: false,
          properties: {
            ids: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'string' } },
          },
        },
        response: PROBLEMS,
      },
    },
    async (request) => {
      operator(request)
      const { ids } = request.body as { ids: string[] }
      return { requeued: await requeueParked(db(), { ...table, ids }) }
    },
  )
  done()
}
