import { randomUUID } from 'node:crypto'
import { ConfigurationError, type DedupClaim, type DedupStore } from '@switchyard/core'
import type { Cluster, Redis } from 'ioredis'

/** Options of `redisDedupStore`. */
export interface RedisDedupStoreOptions {
  /** The ioredis client (or cluster) to use; the store never closes it. */
  client: Redis | Cluster
  /** Prefix of the store's keys. @default 'switchyard:dedup:' */
  prefix?: string
}

const DONE = 'done'
// Deletes a claim only while it is still this consumer's (its lease may have run out and
// another consumer claimed the event since).
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

/**
 * A `DedupStore` on Redis, shared by every consumer that uses the same server and prefix: a claim
 * is `SET key <token> NX PX lease`, a handled event `SET key done PX ttl`, a release deletes the
 * claim only while it is still this consumer's. Pass it to core's `dedup({ store })`.
 */
export function redisDedupStore(options: RedisDedupStoreOptions): DedupStore {
  const { client } = options
  if (client === null || typeof client !== 'object' || typeof client.set !== 'function') {
    throw new ConfigurationError(
      'redisDedupStore needs an ioredis client: { client: new Redis(url) }',
      {
        field: 'redisDedupStore.client',
      },
    )
  }
  const prefix = options.prefix ?? 'switchyard:dedup:'
  /** Tokens of the claims this store made and has not completed or released. */
  const tokens = new Map<string, string>()
  return {
    async claim(key, leaseMs): Promise<DedupClaim> {
      const token = randomUUID()
      const taken = await client.set(prefix + key, token, 'PX', leaseMs, 'NX')
      if (taken === 'OK') {
        tokens.set(key, token)
        return 'claimed'
      }
      return (await client.get(prefix + key)) === DONE ? 'done' : 'busy'
    },
    async complete(key, ttlMs) {
      tokens.delete(key)
      await client.set(prefix + key, DONE, 'PX', ttlMs)
    },
    async release(key) {
      const token = tokens.get(key)
      tokens.delete(key)
      if (token !== undefined) await client.eval(RELEASE, 1, prefix + key, token)
    },
  }
}
