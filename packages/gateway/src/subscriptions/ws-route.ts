import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import type { Principal } from '../auth.js'
import { HttpProblem } from '../problem.js'
import { LiveClient } from '../ws/client.js'
import { authenticateUpgrade } from '../ws/ws-auth.js'
import type { SubscriptionRecord } from './definition.js'
import { subscriptionView } from './input.js'
import type { SubscriptionManager } from './manager.js'
import type { ResolvedSubscriptionOptions } from './options.js'
import { ownedSubscription } from './routes.js'

/** Close codes of `/ws/subscriptions/{id}`. */
export const SUBSCRIPTION_CLOSE = { deleted: 4410, goingAway: 1001 } as const

const LIMITS = { maxBufferedBytes: 4_194_304, maxBufferedMessages: 2_000, closeGraceMs: 5_000 }

interface Setup {
  principal: Principal
  record: SubscriptionRecord
  maxInFlight: number
}

type Status = (record: SubscriptionRecord, principal: Principal) => Promise<Record<string, unknown>>

/** Reads a client frame: `ack`/`nack` of one delivery id or of a batch (`delivery_ids`). */
function parseFrame(raw: string): { type: string; ids: string[]; reason: string } | undefined {
  let frame: { type?: unknown; delivery_id?: unknown; delivery_ids?: unknown; reason?: unknown }
  try {
    frame = JSON.parse(raw)
  } catch {
    return undefined
  }
  if (frame === null || typeof frame !== 'object' || typeof frame.type !== 'string')
    return undefined
  const ids = Array.isArray(frame.delivery_ids)
    ? frame.delivery_ids.filter((id): id is string => typeof id === 'string')
    : typeof frame.delivery_id === 'string'
      ? [frame.delivery_id]
      : []
  const reason = typeof frame.reason === 'string' ? frame.reason.slice(0, 500) : 'no reason given'
  return { type: frame.type, ids, reason }
}

/**
 * `GET /ws/subscriptions/{id}`: a WebSocket consumer of a subscription with WebSocket delivery.
 * Frames out: `subscribed`, `event` (with a `delivery_id`), `status` every `statusIntervalMs` and
 * when the subscription is paused or resumed, `error`. Frames in: `ack` / `nack` with
 * `delivery_id` or `delivery_ids`.
 */
export function subscriptionSocketRoute(
  app: FastifyInstance,
  manager: SubscriptionManager,
  options: ResolvedSubscriptionOptions,
  status: Status,
  open: Set<LiveClient>,
): void {
  const ctx = app.switchyard
  const setups = new WeakMap<FastifyRequest, Setup>()

  async function serve(socket: WebSocket, setup: Setup): Promise<void> {
    const { record, principal } = setup
    const runner = manager.runner(record.id)
    const client = new LiveClient(socket, LIMITS)
    if (runner?.clients === undefined) {
      client.close(SUBSCRIPTION_CLOSE.deleted, 'the subscription is not running on this gateway')
      return
    }
    const consumers = runner.clients
    const consumer = consumers.add(client, setup.maxInFlight)
    open.add(client)
    const sendStatus = async () => {
      const current = await manager.get(record.id)
      if (current === undefined || client.closed) return
      client.send(JSON.stringify({ type: 'status', status: await status(current, principal) }))
    }
    const timer = setInterval(() => {
      sendStatus().catch(() => undefined)
    }, options.statusIntervalMs)
    const onChange = (id: string, change: 'deleted' | 'paused' | 'resumed') => {
      if (id !== record.id) return
      if (change === 'deleted') client.close(SUBSCRIPTION_CLOSE.deleted, 'subscription deleted')
      else sendStatus().catch(() => undefined)
    }
    manager.listeners.add(onChange)
    socket.on('message', (data) => {
      const frame = parseFrame(data.toString())
      if (frame === undefined || (frame.type !== 'ack' && frame.type !== 'nack')) {
        client.send(
          JSON.stringify({ type: 'error', detail: 'expected {"type":"ack"|"nack","delivery_id"}' }),
        )
        return
      }
      for (const id of frame.ids) {
        consumers.answer(consumer, id, frame.type === 'nack' ? frame.reason : undefined)
      }
    })
    socket.once('close', () => {
      clearInterval(timer)
      manager.listeners.delete(onChange)
      open.delete(client)
      consumers.remove(consumer)
      void runner.reconcile()
    })
    client.send(
      JSON.stringify({
        type: 'subscribed',
        subscription: subscriptionView(record),
        max_in_flight: setup.maxInFlight,
      }),
    )
    await runner.reconcile()
  }

  app.route({
    method: 'GET',
    url: '/ws/subscriptions/:id',
    // Authenticated below: a browser sends its token as a subprotocol, not a header.
    config: { public: true },
    schema: {
      summary: 'WebSocket consumer of a subscription (upgrade): event frames to acknowledge',
      tags: ['subscriptions'],
      params: {
        type: 'object',
        required: ['id'],
        properties: { id: { type: 'string', minLength: 1, maxLength: 100 } },
      },
      querystring: {
        type: 'object',
        properties: {
          max_in_flight: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
        },
      },
    },
    onRequest: async (request) => {
      await authenticateUpgrade(ctx, request)
    },
    preHandler: async (request) => {
      const principal = request.principal!
      const { id } = request.params as { id: string }
      const record = await ownedSubscription(manager, principal, id)
      if (record.delivery !== 'websocket') {
        throw new HttpProblem(
          409,
          `Subscription "${id}" delivers to a webhook, not WebSocket clients`,
        )
      }
      // Created on another gateway since this one last synced: read the definitions now.
      if (manager.runner(id) === undefined) await manager.sync()
      const maxInFlight = (request.query as { max_in_flight: number }).max_in_flight
      setups.set(request, { principal, record, maxInFlight })
    },
    // A plain GET: say what this route is for.
    handler: async () => {
      throw new HttpProblem(426, 'This is a WebSocket route: connect with an Upgrade request')
    },
    wsHandler: async (socket, request) => {
      const setup = setups.get(request)
      if (setup === undefined) {
        socket.close(1011, 'connection was not set up')
        return
      }
      await serve(socket, setup)
    },
  })
}
