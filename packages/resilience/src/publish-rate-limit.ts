import { ConfigurationError, type Middleware } from '@switchyard/core'
import { checkKeys } from '@switchyard/core/transport'
import {
  KeyedRateLimiter,
  RateLimiter,
  type RateLimitOptions,
  resolveRateLimit,
} from './rate-limiter.js'

/**
 * Publish middleware that limits this bus's publishes to `perSecond`: over the limit a publish
 * waits its turn (`mode: 'wait'`, the default) or fails at once with a `RateLimitedError`
 * (`mode: 'fail'`). Each event of a `publishBatch` counts as one.
 * @throws {ConfigurationError} for unknown or out-of-range options.
 * @example
 * const bus = createEventBus({ transport, middleware: [publishRateLimit({ perSecond: 500 })] })
 */
export function publishRateLimit(options: RateLimitOptions): Middleware {
  const limiter = new RateLimiter(resolveRateLimit(options, 'publishRateLimit'))
  return {
    name: 'publishRateLimit',
    publish: async (_ctx, next) => {
      const turn = limiter.take()
      if (turn !== undefined) await turn
      await next()
    },
  }
}

/** Options of `tenantRateLimit`: the limit each tenant gets, and exceptions by tenant id. */
export interface TenantRateLimitOptions extends RateLimitOptions {
  /** Per-tenant overrides: a rate (`{ acme: 50 }`) or `{ perSecond, burst }`. */
  tenants?: Readonly<Record<string, number | { perSecond: number; burst?: number }>>
}

/**
 * Publish middleware that limits each tenant (the event's `tenantid`) to its own rate,
 * independently of the others; events without a tenant are not limited by it. `mode` as in
 * `publishRateLimit`; a `RateLimitedError` names the tenant.
 * @throws {ConfigurationError} for unknown or out-of-range options.
 * @example
 * const perTenant = tenantRateLimit({ perSecond: 20, mode: 'fail', tenants: { acme: 100 } })
 */
export function tenantRateLimit(options: TenantRateLimitOptions): Middleware {
  const base = resolveRateLimit(options, 'tenantRateLimit', ['tenants'])
  const overrides = new Map<string, ReturnType<typeof resolveRateLimit>>()
  const tenants = options.tenants ?? {}
  if (tenants === null || typeof tenants !== 'object') {
    throw new ConfigurationError('tenantRateLimit.tenants must be an object', {
      field: 'tenantRateLimit.tenants',
    })
  }
  for (const [tenant, given] of Object.entries(tenants)) {
    const path = `tenantRateLimit.tenants.${tenant}`
    const own = typeof given === 'number' ? { perSecond: given } : given
    checkKeys(own, ['perSecond', 'burst'], path)
    const merged: RateLimitOptions = { perSecond: own.perSecond }
    if (own.burst !== undefined) merged.burst = own.burst
    if (options.mode !== undefined) merged.mode = options.mode
    if (options.maxWaitMs !== undefined) merged.maxWaitMs = options.maxWaitMs
    overrides.set(tenant, resolveRateLimit(merged, path))
  }
  const limiter = new KeyedRateLimiter((tenant) => overrides.get(tenant) ?? base)
  return {
    name: 'tenantRateLimit',
    publish: async (ctx, next) => {
      const tenant = ctx.event.tenantid
      if (tenant !== undefined) {
        const turn = limiter.take(tenant)
        if (turn !== undefined) await turn
      }
      await next()
    },
  }
}
