import type { Middleware } from './middleware.js'
import { checkKeys, checkNumber } from './options.js'

/**
 * What a claim found: `claimed` (this consumer handles it now), `done` (handled before: a
 * duplicate) or `busy` (another consumer is handling it, or died doing so and its lease has not
 * run out yet).
 */
export type DedupClaim = 'claimed' | 'done' | 'busy'

/**
 * Remembers which event ids are being handled and which were handled. Every method must be
 * atomic across the consumers that share the store (Redis `SET NX PX`, a database row).
 */
export interface DedupStore {
  /** Claims `key` for handling for `leaseMs`, unless it is handled or someone else holds it. */
  claim(key: string, leaseMs: number): Promise<DedupClaim> | DedupClaim
  /** Marks `key` handled, remembered for `ttlMs`. */
  complete(key: string, ttlMs: number): Promise<void> | void
  /** Forgets a claim, so a failed handling can be retried. */
  release(key: string): Promise<void> | void
}

/** Options of `dedup`. */
export interface DedupOptions {
  /** Where claims live. @default memoryDedupStore() */
  store?: DedupStore
  /** How long a handled id is remembered. @default 24 h */
  ttlMs?: number
  /**
   * How long a claim protects an event being handled. A consumer that dies while handling holds
   * it this long; a redelivery meanwhile is retried after the lease instead of handled twice.
   * Set it above your longest handler. @default 60 s
   */
  leaseMs?: number
  /** Key of an event in the store. @default `${group}:${event.id}` */
  key?: (ctx: { group: string; event: { id: string; source: string } }) => string
}

/**
 * An in-process store with a bounded LRU of claims; fine for one process. Use a shared store
 * for several: `redisDedupStore` (@switchyard/adapter-redis) or the outbox's PostgreSQL inbox.
 */
export function memoryDedupStore(options: { maxEntries?: number } = {}): DedupStore {
  const max = checkNumber(options.maxEntries ?? 100_000, 'memoryDedupStore.maxEntries', {
    min: 1,
    integer: true,
  })
  const claims = new Map<string, { until: number; done: boolean }>()
  const put = (key: string, until: number, done: boolean) => {
    claims.delete(key)
    claims.set(key, { until, done })
    if (claims.size > max) claims.delete(claims.keys().next().value as string)
  }
  return {
    claim(key, leaseMs) {
      const now = Date.now()
      const held = claims.get(key)
      if (held !== undefined && held.until > now) return held.done ? 'done' : 'busy'
      put(key, now + leaseMs, false)
      return 'claimed'
    },
    complete(key, ttlMs) {
      put(key, Date.now() + ttlMs, true)
    },
    release(key) {
      claims.delete(key)
    },
  }
}

/**
 * Handle middleware that skips events whose id this group already handled: effectively-once
 * handling on top of at-least-once delivery. An event another consumer is handling right now is
 * retried after the lease rather than handled twice; a failed handling releases its claim.
 */
export function dedup(options: DedupOptions = {}): Middleware {
  checkKeys(options, ['store', 'ttlMs', 'leaseMs', 'key'], 'dedup')
  const store = options.store ?? memoryDedupStore()
  const ttlMs = checkNumber(options.ttlMs ?? 86_400_000, 'dedup.ttlMs', { min: 1 })
  const leaseMs = checkNumber(options.leaseMs ?? 60_000, 'dedup.leaseMs', { min: 1 })
  const keyOf = options.key ?? ((ctx) => `${ctx.group}:${ctx.event.id}`)
  return {
    name: 'dedup',
    async handle(ctx, next) {
      const key = keyOf(ctx)
      const claim = await store.claim(key, leaseMs)
      if (claim === 'done') return { kind: 'drop', reason: 'duplicate' }
      if (claim === 'busy') return { kind: 'retry', delayMs: leaseMs, error: undefined }
      let result: Awaited<ReturnType<typeof next>>
      try {
        result = await next()
      } catch (error) {
        await store.release(key)
        throw error
      }
      if (result.kind === 'retry') await store.release(key)
      else await store.complete(key, ttlMs)
      return result
    },
  }
}
