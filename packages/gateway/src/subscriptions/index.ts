import type { FastifyInstance } from 'fastify'
import { closeGoingAway, type LiveClient } from '../ws/client.js'
import { SubscriptionManager } from './manager.js'
import { resolveSubscriptionOptions, type SubscriptionOptions } from './options.js'
import { restRoutes } from './routes.js'
import { TargetGuard } from './ssrf.js'
import { WebhookSender } from './webhook.js'
import { subscriptionSocketRoute } from './ws-route.js'

/**
 * The gateway's subscriptions: `/api/v1/subscriptions` (REST) and `/ws/subscriptions/{id}`,
 * registered by the `switchyardGateway` plugin inside its context (it needs `app.switchyard`
 * and `@fastify/websocket`). Every stored subscription starts when Fastify is ready; they stop,
 * draining running deliveries, before the bus closes.
 */
export function subscriptionRoutes(
  app: FastifyInstance,
  options: { subscriptions?: SubscriptionOptions | undefined },
  done: (error?: Error) => void,
): void {
  let manager: SubscriptionManager
  let sender: WebhookSender
  let guard: TargetGuard
  let resolved: ReturnType<typeof resolveSubscriptionOptions>
  try {
    resolved = resolveSubscriptionOptions(options.subscriptions)
    guard = new TargetGuard(resolved.allowNetworks)
    sender = new WebhookSender(guard, resolved)
    const { bus, store } = app.switchyard
    manager = new SubscriptionManager(
      bus,
      store.subscriptions,
      sender,
      app.log,
      resolved.syncIntervalMs,
    )
  } catch (error) {
    done(error as Error)
    return
  }
  const clients = new Set<LiveClient>()
  const { status } = restRoutes(app, manager, guard, resolved)
  subscriptionSocketRoute(app, manager, resolved, status, clients)
  app.addHook('onReady', async () => {
    await manager.start()
  })
  app.addHook('preClose', async () => {
    for (const client of clients) closeGoingAway(client)
    await manager.stop()
    await sender.close()
  })
  done()
}
