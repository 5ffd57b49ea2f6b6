import type { FastifyInstance, FastifyRequest } from 'fastify'
import { hasRole, type Principal, requireRole } from '../auth.js'
import { HttpProblem } from '../problem.js'
import { PROBLEMS, principalOf } from '../routes/common.js'
import type { SubscriptionRecord } from './definition.js'
import {
  CREATE_SCHEMA,
  type CreateBody,
  definitionOf,
  subscriptionView,
  visibleTo,
} from './input.js'
import type { SubscriptionManager } from './manager.js'
import type { ResolvedSubscriptionOptions } from './options.js'
import type { TargetGuard } from './ssrf.js'

const ID_PARAMS = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 100 } },
} as const

const TAGS = ['subscriptions']

/**
 * The subscription of `:id` when the caller may manage it: its tenant (or no tenant) and the
 * subscriber role on its stream. Others' subscriptions are 404, as if they did not exist.
 * @throws {HttpProblem} 404, or 403 for a token without the subscriber role.
 */
export async function ownedSubscription(
  manager: SubscriptionManager,
  principal: Principal,
  id: string,
): Promise<SubscriptionRecord> {
  requireRole(principal, 'subscriber')
  const record = await manager.get(id)
  if (record === undefined || !visibleTo(principal, record)) {
    throw new HttpProblem(404, `Subscription "${id}" does not exist`)
  }
  requireRole(principal, 'subscriber', record.streamId)
  return record
}

/** Status of a subscription: counters of every gateway, lag from the broker, this process. */
async function statusOf(
  app: FastifyInstance,
  manager: SubscriptionManager,
  record: SubscriptionRecord,
  principal: Principal,
): Promise<Record<string, unknown>> {
  const runner = manager.runner(record.id)
  let lag: number | null = null
  let pending: number | null = null
  let lagNote: string | undefined
  const bus = app.switchyard.bus
  if (principal.tenant !== undefined && record.tenant === undefined) {
    lagNote = 'the group reads every tenant'
  } else if (bus.transport.inspect === undefined) {
    lagNote = `${bus.transport.name} cannot be inspected`
  } else {
    try {
      const [topic] = (await bus.inspect(record.streamId)).topics
      const group = topic?.groups.find((g) => g.group === record.brokerGroup)
      lag = group?.lag ?? null
      pending = group?.pending ?? null
    } catch (error) {
      lagNote = `inspection failed: ${(error as Error).name}`
    }
  }
  const c = record.counters
  return {
    id: record.id,
    state: record.paused ? 'paused' : 'active',
    delivered: c.delivered,
    failed: c.failed,
    dead_lettered: c.deadLettered,
    lag,
    pending,
    ...(lagNote === undefined ? {} : { lag_unavailable: lagNote }),
    last_error: c.lastError ?? null,
    last_error_at: c.lastErrorAt ?? null,
    last_delivery_at: c.lastDeliveryAt ?? null,
    this_gateway: {
      running: runner?.running ?? false,
      failure: runner?.failure ?? null,
      websocket_clients: runner?.clients?.consumers.size ?? null,
    },
  }
}

/** `/api/v1/subscriptions` routes. */
export function restRoutes(
  app: FastifyInstance,
  manager: SubscriptionManager,
  guard: TargetGuard,
  options: ResolvedSubscriptionOptions,
): { status(record: SubscriptionRecord, principal: Principal): Promise<Record<string, unknown>> } {
  const ctx = app.switchyard
  const idOf = (request: FastifyRequest) => (request.params as { id: string }).id
  const status = (record: SubscriptionRecord, principal: Principal) =>
    statusOf(app, manager, record, principal)

  app.post(
    '/api/v1/subscriptions',
    {
      schema: {
        summary: 'Create a subscription (webhook or WebSocket)',
        tags: TAGS,
        body: CREATE_SCHEMA,
        response: PROBLEMS,
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      const body = request.body as CreateBody
      requireRole(principal, 'subscriber', body.stream_id)
      if ((await ctx.streams.get(body.stream_id)) === undefined) {
        throw new HttpProblem(404, `Stream "${body.stream_id}" does not exist`)
      }
      const definition = definitionOf(body, principal, options.groupPrefix)
      if (definition.webhookUrl !== undefined) {
        const refused = await guard.check(definition.webhookUrl)
        if (refused !== undefined) throw new HttpProblem(400, refused)
      }
      if (!(await manager.create(definition))) {
        throw new HttpProblem(
          409,
          `Stream "${definition.streamId}" has a subscription in consumer group "${definition.consumerGroup}" already`,
        )
      }
      // The only time the secret is shown.
      return reply.code(201).send({ ...subscriptionView(definition), secret: definition.secret })
    },
  )
  app.get(
    '/api/v1/subscriptions',
    { schema: { summary: 'List subscriptions', tags: TAGS, response: PROBLEMS } },
    async (request) => {
      const principal = principalOf(request)
      requireRole(principal, 'subscriber')
      const all = await manager.list()
      const mine = all.filter(
        (s) => visibleTo(principal, s) && hasRole(principal, 'subscriber', s.streamId),
      )
      return { subscriptions: mine.map(subscriptionView) }
    },
  )
  app.get(
    '/api/v1/subscriptions/:id',
    {
      schema: { summary: 'Get a subscription', tags: TAGS, params: ID_PARAMS, response: PROBLEMS },
    },
    async (request) =>
      subscriptionView(await ownedSubscription(manager, principalOf(request), idOf(request))),
  )
  app.get(
    '/api/v1/subscriptions/:id/status',
    {
      schema: {
        summary: 'Delivered, failed, dead-lettered, lag, last error and delivery of a subscription',
        tags: TAGS,
        params: ID_PARAMS,
        response: PROBLEMS,
      },
    },
    async (request) => {
      const principal = principalOf(request)
      return status(await ownedSubscription(manager, principal, idOf(request)), principal)
    },
  )
  app.delete(
    '/api/v1/subscriptions/:id',
    {
      schema: {
        summary: 'Delete a subscription',
        tags: TAGS,
        params: ID_PARAMS,
        response: PROBLEMS,
      },
    },
    async (request, reply) => {
      const record = await ownedSubscription(manager, principalOf(request), idOf(request))
      await manager.remove(record.id)
      return reply.code(204).send()
    },
  )
  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/api/v1/subscriptions/:id/${action}`,
      {
        schema: {
          summary: action === 'pause' ? 'Pause a subscription' : 'Resume a paused subscription',
          tags: TAGS,
          params: ID_PARAMS,
          response: PROBLEMS,
        },
      },
      async (request) => {
        const principal = principalOf(request)
        const record = await ownedSubscription(manager, principal, idOf(request))
        const updated = await manager.setPaused(record, action === 'pause')
        return subscriptionView(updated)
      },
    )
  }
  return { status }
}
