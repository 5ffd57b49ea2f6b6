import type { EventBus } from '@switchyard/core'
import type { Authenticator, Principal } from './auth.js'
import type { GatewayMetrics } from './metrics.js'
import type { RateLimiter } from './rate-limit.js'
import type { Schemas } from './schemas.js'
import type { StateStore } from './state/store.js'
import type { Streams } from './streams.js'

/**
 * Everything the gateway's routes share. Decorated on the Fastify instance the plugin runs in as
 * `switchyard`, so further routes (the WebSocket ones under `src/ws/`) reach the same bus, store,
 * registry and authenticator.
 */
export interface GatewayContext {
  /** The bus events are published to and read from. */
  readonly bus: EventBus
  /** Streams and schemas storage. */
  readonly store: StateStore
  /** Stream definitions and publish counters. */
  readonly streams: Streams
  /** The schema registry with the seed catalogs. */
  readonly schemas: Schemas
  /** Bearer token verification. */
  readonly auth: Authenticator
  /** Per-tenant token buckets, when rate limiting is on. */
  readonly limiter: RateLimiter | undefined
  /** Prometheus metrics, when enabled. */
  readonly metrics: GatewayMetrics | undefined
  /** Most events one browse request may return. */
  readonly browseMax: number
  /** When the gateway started, ms since the epoch. */
  readonly startedAt: number
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The gateway's shared state (see `GatewayContext`). */
    switchyard: GatewayContext
  }
  interface FastifyRequest {
    /** The verified caller; set on every route but the public ones. */
    principal: Principal | undefined
  }
  interface FastifyContextConfig {
    /** A route that needs no token (`/health`, the docs page). */
    public?: boolean
  }
}
