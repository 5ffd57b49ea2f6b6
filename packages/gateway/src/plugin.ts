import swagger from '@fastify/swagger'
import websocket from '@fastify/websocket'
import type { EventBus } from '@switchyard/core'
import type { EventStore } from '@switchyard/event-store'
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify'
import { type AuthOptions, createAuthenticator, type Principal } from './auth.js'
import type { GatewayContext } from './context.js'
import type { GatewayMetrics } from './metrics.js'
import { installErrorHandler } from './problem.js'
import { RateLimiter, type RateLimitOptions } from './rate-limit.js'
import { archiveRoutes } from './routes/archive.js'
import { consoleRoutes } from './routes/console.js'
import { deadLetterRoutes } from './routes/dead-letters.js'
import { eventRoutes } from './routes/events.js'
import { opsRoutes } from './routes/ops.js'
import { type OutboxSource, outboxRoutes } from './routes/outbox.js'
import { schemaRoutes } from './routes/schemas.js'
import { streamRoutes } from './routes/streams.js'
import { Schemas } from './schemas.js'
import type { StateStore } from './state/store.js'
import { type StreamInput, Streams } from './streams.js'
import { subscriptionRoutes } from './subscriptions/index.js'
import type { SubscriptionOptions } from './subscriptions/options.js'
import { liveRoutes } from './ws/index.js'
import type { LiveOptions } from './ws/options.js'
import { guardUpgrades } from './ws/upgrade-guard.js'

/** Options of the `switchyardGateway` Fastify plugin. */
export interface GatewayPluginOptions {
  /** The bus to publish to and read from; connected when Fastify is ready. */
  bus: EventBus
  /** Where streams and schemas are kept (`openStateStore`). */
  store: StateStore
  /** How bearer tokens are checked. */
  auth: AuthOptions
  /** Per-tenant token buckets; `false` turns rate limiting off. @default false */
  rateLimit?: RateLimitOptions | false
  /** Prometheus metrics for `/metrics` (`prometheusMetrics()`); off when omitted. */
  metrics?: GatewayMetrics | undefined
  /** Streams to create at start when missing (APG's `streams.yaml`, as objects). */
  streams?: readonly StreamInput[]
  /** Preload the Olive, Anumate and Marty catalogs into the schema registry. @default true */
  preloadCatalogs?: boolean
  /** Most retained events one browse or metrics request reads. @default 1000 */
  browseMax?: number
  /** Close the bus when Fastify closes. @default true */
  closeBus?: boolean
  /** Close the state store when Fastify closes. @default true */
  closeStore?: boolean
  /** Version shown in the OpenAPI document. @default '0.1.0' */
  version?: string
  /** WebSocket routes: per-client buffer limits, resume window, monitoring interval. */
  live?: LiveOptions | undefined
  /** Serve the operator console (`@switchyard/console`) at `/console`. @default true */
  console?: boolean
  /** The transactional outbox whose backlog and parked rows `/api/v1/outbox` reports. */
  outbox?: OutboxSource | undefined
  /** Subscriptions: the webhook SSRF allow-list, sync interval, WebSocket status interval. */
  subscriptions?: SubscriptionOptions | undefined
  /**
   * The event store (`@switchyard/event-store`) behind `GET /api/v1/events/{id}`,
   * `POST /api/v1/events/query` and `POST /api/v1/streams/{id}/replay`; those routes exist only
   * when it is given.
   */
  eventStore?: EventStore | undefined
}

/**
 * The gateway as a Fastify plugin: REST routes for publishing, streams, schemas and operations,
 * bearer-JWT auth with tenants and roles, problem+json errors, per-tenant rate limits,
 * `/openapi.json`. The bus connects when Fastify is ready and drains when it closes (Olive's
 * FastAPI lifespan, in Fastify's form). `@fastify/websocket` serves the live and subscription
 * streams from a child context of their own (upgrade requests to other paths are answered 404);
 * routes added beside the gateway's reach its state as `app.switchyard`.
 * @example
 * const app = Fastify()
 * await app.register(switchyardGateway, { bus, store: await openStateStore({}), auth: { secret } })
 * await app.listen({ port: 8080 })
 */
export const switchyardGateway: FastifyPluginAsync<GatewayPluginOptions> = async (
  app: FastifyInstance,
  options: GatewayPluginOptions,
) => {
  const { bus, store } = options
  const schemas = new Schemas(store, options.preloadCatalogs ?? true)
  await schemas.init()
  const streams = new Streams(store, bus)
  await streams.init(options.streams ?? [])
  const ctx: GatewayContext = {
    bus,
    store,
    streams,
    schemas,
    auth: createAuthenticator(options.auth),
    limiter: options.rateLimit ? new RateLimiter(options.rateLimit) : undefined,
    metrics: options.metrics,
    browseMax: options.browseMax ?? 1000,
    startedAt: Date.now(),
  }
  app.decorate('switchyard', ctx)
  app.decorateRequest('principal', undefined)
  installErrorHandler(app)
  // JSON only: Fastify's built-in text/plain parser would turn a wrong content type into a 400.
  app.removeContentTypeParser('text/plain')
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Switchyard gateway',
        version: options.version ?? '0.1.0',
        description: 'Publish events, manage streams and schemas over the Switchyard bus.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
      security: [{ bearer: [] }],
    },
  })

  const admit = (request: FastifyRequest, principal: Principal): void => {
    request.principal = principal
    ctx.limiter?.take(principal.tenant ?? `sub:${principal.subject ?? ''}`)
  }
  // A callback hook, not an async one: a token verified before is admitted without a promise.
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.routeOptions.config?.public === true) return done()
    const header = request.headers.authorization
    try {
      const known = ctx.auth.remembered?.(header)
      if (known !== undefined) {
        admit(request, known)
        return done()
      }
    } catch (error) {
      return done(error as Error)
    }
    ctx.auth.authenticate(header).then(
      (principal) => {
        try {
          admit(request, principal)
        } catch (error) {
          return done(error as Error)
        }
        done()
      },
      (error: Error) => done(error),
    )
  })
  if (ctx.metrics !== undefined) {
    const metrics = ctx.metrics
    app.addHook('onResponse', async (request, reply) => {
      metrics.recordRequest(
        {
          'http.request.method': request.method,
          'http.route': request.routeOptions.url ?? 'unknown',
          'http.response.status_code': reply.statusCode,
        },
        reply.elapsedTime / 1000,
      )
    })
  }
  app.addHook('onReady', async () => {
    await bus.connect()
    // Streams declared at start (and any created before a restart) get their broker topics.
    await streams.provisionAll()
  })
  app.addHook('onClose', async () => {
    if (options.closeBus ?? true) await bus.close()
    if (options.closeStore ?? true) await store.close()
    await ctx.metrics?.shutdown()
  })

  await app.register(eventRoutes)
  await app.register(streamRoutes)
  await app.register(schemaRoutes)
  await app.register(opsRoutes)
  // @fastify/websocket gives every route of its context an onRequest and an onResponse hook
  // (and the response listeners that come with one) and wraps each handler: kept to a context
  // of the routes that upgrade, REST requests (the publish path above all) do not pay for them.
  const socketRoutes: FastifyPluginAsync = async (withSockets) => {
    await withSockets.register(websocket)
    guardUpgrades(withSockets)
    await withSockets.register(liveRoutes, { live: options.live })
    await withSockets.register(subscriptionRoutes, { subscriptions: options.subscriptions })
  }
  await app.register(socketRoutes)
  await app.register(deadLetterRoutes)
  await app.register(outboxRoutes, { outbox: options.outbox })
  if (options.eventStore !== undefined) {
    await app.register(archiveRoutes, { store: options.eventStore })
  }
  if (options.console ?? true) await app.register(consoleRoutes)
}
