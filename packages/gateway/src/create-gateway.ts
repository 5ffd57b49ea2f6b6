import type { EventBus } from '@switchyard/core'
import type { EventStore } from '@switchyard/event-store'
import Fastify, { type FastifyInstance } from 'fastify'
import type { AuthOptions } from './auth.js'
import type { GatewayMetrics } from './metrics.js'
import { switchyardGateway } from './plugin.js'
import type { RateLimitOptions } from './rate-limit.js'
import type { OutboxSource } from './routes/outbox.js'
import { openStateStore, type StateOptions } from './state/open-store.js'
import type { StateStore } from './state/store.js'
import type { StreamInput } from './streams.js'
import type { SubscriptionOptions } from './subscriptions/options.js'
import type { LiveOptions } from './ws/options.js'

/** Options of `createGateway`. */
export interface GatewayOptions {
  /** The bus the gateway serves. */
  bus: EventBus
  /** How bearer tokens are checked: `{ secret }` (HS256) or `{ jwksUrl, algorithm }`. */
  auth: AuthOptions
  /** A state store, or where to open one. @default PGlite in memory */
  state?: StateStore | StateOptions
  /** Per-tenant token buckets. @default { ratePerSecond: 1000, burst: 2000 } */
  rateLimit?: RateLimitOptions | false
  /** Largest request body, in bytes (413 beyond). @default 1048576 */
  bodyLimit?: number
  /** Prometheus metrics (`prometheusMetrics()`). */
  metrics?: GatewayMetrics | undefined
  /** Streams to create at start when missing. */
  streams?: readonly StreamInput[]
  /** Preload the Olive, Anumate and Marty catalogs. @default true */
  preloadCatalogs?: boolean
  /** Fastify's logger: `false`, or a pino level. @default false */
  logLevel?: string | false
  /** Where log lines go (a pino destination). @default stdout */
  logStream?: { write(line: string): void }
  /** Close the bus when the server closes. @default true */
  closeBus?: boolean
  /** The WebSocket routes' buffers, resume window, monitoring interval and live group. */
  live?: LiveOptions
  /** Serve the operator console at `/console`. @default true */
  console?: boolean
  /** The transactional outbox `/api/v1/outbox` reports on (a `pg` Pool or PGlite, and the table). */
  outbox?: OutboxSource
  /** Subscriptions: the webhook SSRF allow-list (`webhooks.allowNetworks`), sync interval. */
  subscriptions?: SubscriptionOptions
  /**
   * The event store (`@switchyard/event-store`) behind `GET /api/v1/events/{id}`,
   * `POST /api/v1/events/query` and `POST /api/v1/streams/{id}/replay`; those routes exist only
   * when it is given.
   */
  eventStore?: EventStore
}

/**
 * A Fastify instance serving the gateway over `bus`; call `listen` on it. The bus connects when
 * the server is ready and closes with it.
 * @example
 * const app = await createGateway({ bus, auth: { secret: process.env.JWT_SECRET_KEY! } })
 * await app.listen({ host: '127.0.0.1', port: 8080 })
 */
export async function createGateway(options: GatewayOptions): Promise<FastifyInstance> {
  const logLevel = options.logLevel ?? false
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? 1_048_576,
    logger:
      logLevel === false
        ? false
        : {
            level: logLevel,
            ...(options.logStream === undefined ? {} : { stream: options.logStream }),
            // Fastify's request serializer logs no headers; the redaction keeps it so if a
            // serializer that does is configured later.
            redact: ['req.headers.authorization', 'req.headers.cookie'],
          },
  })
  const state = options.state
  const store =
    state !== undefined && 'listStreams' in state ? state : await openStateStore(state ?? {})
  try {
    await app.register(switchyardGateway, {
      bus: options.bus,
      store,
      auth: options.auth,
      rateLimit: options.rateLimit ?? { ratePerSecond: 1000, burst: 2000 },
      metrics: options.metrics,
      streams: options.streams ?? [],
      preloadCatalogs: options.preloadCatalogs ?? true,
      closeBus: options.closeBus ?? true,
      closeStore: true,
      live: options.live,
      console: options.console ?? true,
      outbox: options.outbox,
      subscriptions: options.subscriptions,
      eventStore: options.eventStore,
    })
    await app.ready()
  } catch (error) {
    await app.close().catch(() => undefined)
    throw error
  }
  return app
}
