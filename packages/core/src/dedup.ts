import type { Middleware } from './middleware.js'
import { checkKeys, checkNumber } from './options.js'

/** Remembers which event ids were handled. `claim` must be atomic across consumers that share it. */
export interface DedupStore {
  /** Claims `key` for `ttlMs`; resolves false if it was already claimed. */
  claim(key: string, ttlMs: number): Promise<boolean> | boolean
  /** Forgets a claim, so a failed handling can be retried. */
  release(key: string): Promise<void> | void
}

/** Options of `dedup`. */
export interface DedupOptions {
  /** Where claims live. @default memoryDedupStore() */
  store?: DedupStore
  /** How long an id is remembered. @default 24 h */
  ttlMs?: number
  /** Key of an event in the store. @default `${group}:${event.id}` */
  key?: (ctx: { group: string; event: { id: string; source: string } }) => string
}

/**
 * An in-process store with a bounded LRU of claims; fine for one process, use a shared store
 * (Redis `SET NX PX`) for several.
 */
export function memoryDedupStore(options: { maxEntries?: number } = {}): DedupStore {
  const max = checkNumber(options.maxEntries ?? 100_000, 'memoryDedupStore.maxEntries', {
    min: 1,
    integer: true,
  })
  const claims = new Map<string, number>()
  return {
    claim(key, ttlMs) {
      const now = Date.now()
      const expires = claims.get(key)
      if (expires !== undefined && expires > now) return false
      claims.delete(key)
      claims.set(key, now + ttlMs)
      if (claims.size > max) claims.delete(claims.keys().next().value as string)
      return true
    },
    release(key) {
      claims.delete(key)
    },
  }
}

/**
 * Handle middleware that skips events whose id this group already handled: effectively-once
 * handling on top of at-least-once delivery. A failed handling releases its claim.
 */
export function dedup(options: DedupOptions = {}): Middleware {
  checkKeys(options, ['store', 'ttlMs', 'key'], 'dedup')
  const store = options.store ?? memoryDedupStore()
  const ttlMs = checkNumber(options.ttlMs ?? 86_400_000, 'dedup.ttlMs', { min: 1 })
  const keyOf = options.key ?? ((ctx) => `${ctx.group}:${ctx.event.id}`)
  return {
    name: 'dedup',
    async handle(ctx, next) {
      const key = keyOf(ctx)
      if (!(await store.claim(key, ttlMs))) return { kind: 'drop', reason: 'duplicate' }
      let result: Awaited<ReturnType<typeof next>>
      try {
        result = await next()
      } catch (error) {
        await store.release(key)
        throw error
      }
      if (result.kind === 'retry') await store.release(key)
      return result
    },
  }
}
