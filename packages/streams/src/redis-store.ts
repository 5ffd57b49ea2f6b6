import { createHash } from 'node:crypto'
import { ConfigurationError } from '@switchyard/core'
import {
  decodeKeyState,
  encodeKeyState,
  type OutboxItem,
  type StateStore,
  type StoredKeyState,
} from './store.js'

/** The ioredis calls the store makes; an ioredis `Redis` instance has them. */
export interface RedisStoreClient {
  /** HMGET. */
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]>
  /** ZMSCORE (Redis 6.2 and later). */
  zmscore(key: string, ...members: string[]): Promise<(string | null)[]>
  /** HVALS. */
  hvals(key: string): Promise<string[]>
  /** EVAL. */
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>
  /** EVALSHA: when there, the commit script is sent once, then called by its hash. */
  evalsha?(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>
}

/** Options of `redisStore`. */
export interface RedisStoreOptions {
  /** Your ioredis client; it stays open when the store closes. */
  client: RedisStoreClient
  /** Prefix of the store's keys (`<prefix>:{<stream>}:state`, `:outbox`, `:seen`). @default 'switchyard:streams' */
  keyPrefix?: string
}

// Checks every version and every taken id first, then writes: all or nothing, in one round
// trip. A state is stored as "<version>|<json>" so the check reads one field. Taken ids live in
// a sorted set scored by when they may be forgotten.
const COMMIT = `
local n = tonumber(ARGV[1])
local outAt = 2 + n * 3
local m = tonumber(ARGV[outAt])
local sentAt = outAt + m * 2 + 1
local sent = tonumber(ARGV[sentAt])
local nowAt = sentAt + sent + 1
local now = tonumber(ARGV[nowAt])
local expiry = now + tonumber(ARGV[nowAt + 1])
for i = 0, n - 1 do
  local cur = redis.call('HGET', KEYS[1], ARGV[2 + i * 3])
  local v = 0
  if cur then v = tonumber(string.match(cur, '^(%d+)|')) end
  if v ~= tonumber(ARGV[3 + i * 3]) then return 0 end
end
for i = nowAt + 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[3], ARGV[i])
  if score and tonumber(score) > now then return 0 end
end
for i = 0, n - 1 do
  local v = tonumber(ARGV[3 + i * 3]) + 1
  redis.call('HSET', KEYS[1], ARGV[2 + i * 3], v .. '|' .. ARGV[4 + i * 3])
end
for i = 1, m do redis.call('HSET', KEYS[2], ARGV[outAt + i * 2 - 1], ARGV[outAt + i * 2]) end
for i = sentAt + 1, sentAt + sent do redis.call('HDEL', KEYS[2], ARGV[i]) end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
for i = nowAt + 2, #ARGV do redis.call('ZADD', KEYS[3], expiry, ARGV[i]) end
return 1
`
const COMMIT_SHA = createHash('sha1').update(COMMIT).digest('hex')

/**
 * State in Redis: one hash per stream for the keys' states and one for the outbox, written
 * atomically by one Lua script per batch that checks each key's version and that none of the
 * batch's events was taken before. Survives a crash of the processor
 * (and of Redis, with its persistence on).
 * @example
 * const store = redisStore({ client: new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379') })
 * @throws {ConfigurationError} without a client.
 */
export function redisStore(options: RedisStoreOptions): StateStore {
  const client = options?.client
  if (client === undefined || typeof client.eval !== 'function') {
    throw new ConfigurationError('redisStore needs { client }: an ioredis instance', {
      field: 'redisStore.client',
    })
  }
  const prefix = options.keyPrefix ?? 'switchyard:streams'
  const key = (stream: string, what: string) => `${prefix}:{${stream}}:${what}`
  // The script is ~1 KB: by its hash, a batch sends its data only. A server that does not have
  // it yet (new, restarted, flushed) answers NOSCRIPT, and EVAL sends it (and caches it) again.
  const run = async (keys: string[], args: (string | number)[]): Promise<unknown> => {
    if (typeof client.evalsha === 'function') {
      try {
        return await client.evalsha(COMMIT_SHA, 3, ...keys, ...args)
      } catch (error) {
        if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error
      }
    }
    return client.eval(COMMIT, 3, ...keys, ...args)
  }
  return {
    name: 'redis',
    checksSeen: true,
    async load(stream, keys, ids) {
      const states = new Map<string, StoredKeyState>()
      const seen = new Set<string>()
      const [values, scores] = await Promise.all([
        keys.length === 0 ? [] : client.hmget(key(stream, 'state'), ...keys),
        ids.length === 0 ? [] : client.zmscore(key(stream, 'seen'), ...ids),
      ])
      values.forEach((value, i) => {
        if (value === null) return
        const bar = value.indexOf('|')
        const state = decodeKeyState(value.slice(bar + 1))
        states.set(keys[i] as string, { version: Number(value.slice(0, bar)), state })
      })
      const now = Date.now()
      scores.forEach((score, i) => {
        if (score !== null && Number(score) > now) seen.add(ids[i] as string)
      })
      return { states, seen }
    },
    async commit(stream, change) {
      const args: (string | number)[] = [change.entries.length]
      for (const e of change.entries) args.push(e.key, e.version, encodeKeyState(e.state))
      args.push(change.outbox.length)
      for (const item of change.outbox) args.push(item.id, JSON.stringify(item))
      args.push(change.sent.length, ...change.sent, Date.now(), change.dedupMs, ...change.seen)
      const keys = [key(stream, 'state'), key(stream, 'outbox'), key(stream, 'seen')]
      const done = await run(keys, args)
      return Number(done) === 1
    },
    async outbox(stream) {
      return (await client.hvals(key(stream, 'outbox'))).map((v) => JSON.parse(v) as OutboxItem)
    },
    async close() {},
  }
}
