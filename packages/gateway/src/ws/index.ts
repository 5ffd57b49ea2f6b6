import type { FastifyInstance } from 'fastify'
import { closeGoingAway } from './client.js'
import { eventsRoute, type LiveRegistry } from './events-route.js'
import { LiveHub } from './hub.js'
import { monitoringRoute } from './monitoring.js'
import { type LiveOptions, resolveLiveOptions } from './options.js'

/**
 * The gateway's WebSocket routes, `/ws/events/{stream}` and `/ws/monitoring`, registered by the
 * `switchyardGateway` plugin inside its context (it needs `app.switchyard` and
 * `@fastify/websocket`). Reads its settings from the plugin options' `live` member.
 */
export function liveRoutes(
  app: FastifyInstance,
  options: { live?: LiveOptions | undefined },
  done: (error?: Error) => void,
): void {
  let resolved: ReturnType<typeof resolveLiveOptions>
  try {
    resolved = resolveLiveOptions(options.live)
  } catch (error) {
    done(error as Error)
    return
  }
  const hub = new LiveHub(app.switchyard.bus, resolved.group, resolved.maxBufferedBytes / 4)
  const registry: LiveRegistry = { clients: new Set(), overflows: 0 }
  eventsRoute(app, hub, registry, resolved)
  monitoringRoute(app, hub, registry, resolved)
  app.addHook('preClose', async () => {
    for (const client of registry.clients) closeGoingAway(client)
  })
  app.addHook('onClose', async () => {
    await hub.close()
  })
  done()
}
