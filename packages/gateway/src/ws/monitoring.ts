import { type EventEnvelope, readDeadLetter } from '@switchyard/core'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { hasRole, type Principal } from '../auth.js'
import type { GatewayContext } from '../context.js'
import { HttpProblem } from '../problem.js'
import { decodeRetained } from '../routes/retained.js'
import { LiveClient } from './client.js'
import type { LiveRegistry } from './events-route.js'
import type { LiveHub } from './hub.js'
import type { ResolvedLiveOptions } from './options.js'
import { authenticateUpgrade } from './ws-auth.js'

function visible(principal: Principal, event: EventEnvelope): boolean {
  return principal.tenant === undefined || event.tenantid === principal.tenant
}

/** The numbers of `GET /api/v1/streams/{id}/metrics`, for one stream and principal. */
export async function streamMetrics(
  ctx: GatewayContext,
  id: string,
  principal: Principal,
): Promise<Record<string, unknown>> {
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
  return {
    stream: id,
    published_total: published.total,
    publish_rate_per_second: published.ratePerSecond,
    retained_count: retained.events.filter((e) => visible(principal, e)).length,
    retained_count_complete: retained.complete,
    dead_letter_topic: dlqTopic,
    dead_letter_depth: deadMine.length,
  }
}

/** The numbers of `GET /api/v1/status`. */
async function status(ctx: GatewayContext): Promise<Record<string, unknown>> {
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
  }
}

/** Streams a monitoring connection reports: those asked for, else every one it may see. */
async function streamsOf(
  ctx: GatewayContext,
  principal: Principal,
  asked: string[] | undefined,
): Promise<string[]> {
  const readable = (id: string) =>
    hasRole(principal, 'subscriber', id) || hasRole(principal, 'publisher', id)
  if (asked !== undefined) return asked.filter(readable)
  return (await ctx.streams.list()).map((s) => s.id).filter(readable)
}

/**
 * `GET /ws/monitoring`: a `metrics` frame every `monitoringIntervalMs` with the gateway status,
 * the metrics of each stream the token may read (or those in `?streams=a,b`), as the REST routes
 * give them, and the WebSocket figures. A tick is skipped while the previous one still runs.
 */
export function monitoringRoute(
  app: FastifyInstance,
  hub: LiveHub,
  registry: LiveRegistry,
  options: ResolvedLiveOptions,
): void {
  const ctx = app.switchyard
  const principals = new WeakMap<FastifyRequest, Principal>()
  app.get(
    '/ws/monitoring',
    {
      websocket: true,
      config: { public: true },
      schema: {
        querystring: {
          type: 'object',
          properties: { streams: { type: 'string', description: 'Comma-separated stream ids' } },
        },
      },
      onRequest: async (request) => {
        const principal = await authenticateUpgrade(ctx, request)
        if (!hasRole(principal, 'subscriber')) {
          throw new HttpProblem(403, 'Monitoring needs the "subscriber" or "admin" role')
        }
        principals.set(request, principal)
      },
    },
    (socket, request) => {
      const principal = principals.get(request)!
      const raw = (request.query as { streams?: string }).streams
      const asked = raw
        ?.split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
      const client = new LiveClient(socket, options, () => registry.overflows++)
      let running = false
      const tick = async () => {
        if (running || client.closed) return
        running = true
        try {
          const ids = await streamsOf(ctx, principal, asked)
          const streams = []
          for (const id of ids) {
            if ((await ctx.streams.get(id)) !== undefined) {
              streams.push(await streamMetrics(ctx, id, principal))
            }
          }
          client.send(
            JSON.stringify({
              type: 'metrics',
              time: new Date().toISOString(),
              tenant: principal.tenant ?? null,
              status: await status(ctx),
              streams,
              websocket: principal.tenant === undefined ? websocketFigures(registry, hub) : null,
            }),
          )
        } catch (error) {
          app.log.warn({ error: (error as Error).name }, 'monitoring tick failed')
        } finally {
          running = false
        }
      }
      const timer = setInterval(() => void tick(), options.monitoringIntervalMs)
      socket.once('close', () => clearInterval(timer))
      socket.on('message', () => undefined)
      void tick()
    },
  )
}

/** Connections, slow-consumer disconnects and live subscriptions (operators only). */
function websocketFigures(registry: LiveRegistry, hub: LiveHub): Record<string, unknown> {
  return {
    connections: registry.clients.size,
    slow_consumer_disconnects: registry.overflows,
    live_streams: hub.stats(),
  }
}
