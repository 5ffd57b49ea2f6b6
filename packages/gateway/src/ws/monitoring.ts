import type { FastifyInstance, FastifyRequest } from 'fastify'
import { hasRole } from '../auth.js'
import { HttpProblem } from '../problem.js'
import { LiveClient } from './client.js'
import type { LiveRegistry } from './events-route.js'
import type { LiveHub } from './hub.js'
import { CLOSE, type ResolvedLiveOptions } from './options.js'
import { authenticateUpgrade, authorizationOf } from './ws-auth.js'

/** A connection's caller: its tenant, and the credentials its REST reads are made with. */
interface Watcher {
  tenant: string | undefined
  authorization: string
}

/** Thrown when a REST read of a tick is refused: the connection ends with its status. */
class Refused extends Error {
  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(detail)
  }
}

/**
 * Reads a REST route of this gateway in process (`app.inject`) with the connection's token, so a
 * frame holds exactly what `GET /api/v1/status` and `GET /api/v1/streams/{id}/metrics` answer,
 * and an expired token or a revoked role ends the monitoring like it ends REST access.
 */
async function read(app: FastifyInstance, watcher: Watcher, url: string): Promise<unknown> {
  const response = await app.inject({
    method: 'GET',
    url,
    headers: { authorization: watcher.authorization },
  })
  const body = response.json() as { detail?: string }
  if (response.statusCode >= 400) {
    throw new Refused(response.statusCode, body.detail ?? `GET ${url} failed`)
  }
  return body
}

async function frame(
  app: FastifyInstance,
  watcher: Watcher,
  asked: string[] | undefined,
): Promise<Record<string, unknown>> {
  const status = await read(app, watcher, '/api/v1/status')
  const ids =
    asked ??
    ((await read(app, watcher, '/api/v1/streams')) as { streams: { id: string }[] }).streams.map(
      (s) => s.id,
    )
  const streams = []
  for (const id of ids) {
    try {
      streams.push(await read(app, watcher, `/api/v1/streams/${encodeURIComponent(id)}/metrics`))
    } catch (error) {
      // A stream asked for by name that is missing or not readable is reported, not fatal.
      if (!(error instanceof Refused) || error.status === 401 || error.status === 429) throw error
      streams.push({ stream: id, error: { status: error.status, detail: error.message } })
    }
  }
  return {
    type: 'metrics',
    time: new Date().toISOString(),
    tenant: watcher.tenant ?? null,
    status,
    streams,
  }
}

/**
 * `GET /ws/monitoring`: a `metrics` frame every `monitoringIntervalMs` with the gateway status and
 * the metrics of each stream the token may read (or those in `?streams=a,b`), as the REST routes
 * answer them, plus the WebSocket figures for operator tokens. A tick is skipped while the
 * previous one still runs. A token that expires ends the connection (4401).
 */
export function monitoringRoute(
  app: FastifyInstance,
  hub: LiveHub,
  registry: LiveRegistry,
  options: ResolvedLiveOptions,
): void {
  const ctx = app.switchyard
  const watchers = new WeakMap<FastifyRequest, Watcher>()
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
        watchers.set(request, {
          tenant: principal.tenant,
          authorization: authorizationOf(request)!,
        })
      },
    },
    (socket, request) => {
      const watcher = watchers.get(request)!
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
          const body = await frame(app, watcher, asked)
          body.websocket = watcher.tenant === undefined ? websocketFigures(registry, hub) : null
          client.send(JSON.stringify(body))
        } catch (error) {
          if (error instanceof Refused && error.status === 401) {
            client.close(CLOSE.unauthorized, error.message)
          } else {
            app.log.warn({ error: (error as Error).name }, 'monitoring tick failed')
          }
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
