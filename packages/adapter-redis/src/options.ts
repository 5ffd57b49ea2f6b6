import type { ConnectionOptions } from 'node:tls'
import {
  ConfigurationError,
  checkKeys,
  checkLogger,
  checkNumber,
  checkString,
  type Env,
  envReader,
  type Logger,
  subscribeDefaultsFromEnv,
  type Transport,
} from '@switchyard/core/transport'
import type { Cluster, Redis, RedisOptions } from 'ioredis'

/** Options of `redisTransport`: DotMac's `RedisConfig` in camelCase, times in ms, plus `client` and `keyPrefix`. */
export interface RedisTransportOptions {
  /**
   * Bring your own ioredis client, a `Redis` or a `Cluster` (lazy or connected). The transport
   * duplicates it for blocking reads and never quits it.
   */
  client?: Redis | Cluster
  /** `redis://[user:password@]host:port/db`, or `rediss://` for TLS. Excludes `host`/`port`/`db`. */
  url?: string
  /** Server host. @default '127.0.0.1' */
  host?: string
  /** Server port. @default 6379 */
  port?: number
  /** Database number. @default 0 */
  db?: number
  /** Password (AUTH). */
  password?: string
  /** TLS: `true` for defaults, or Node `tls.connect` options. @default false */
  tls?: boolean | ConnectionOptions
  /**
   * Trims each topic's stream to about this many entries, but never past an entry some group
   * has not read or not settled (pending, or waiting for a retry): a lagging group holds the
   * stream longer instead of losing events. Streams without a group (dead letters) are trimmed
   * by count. @default unbounded
   */
  maxStreamLength?: number
  /**
   * Lets `maxStreamLength` drop events a group has not handled yet (unread, pending, waiting
   * for a retry), to cap memory whatever the consumers do. Never silent: each group is told how
   * many it lost, through the `onError` of its subscriptions (a `MessagesLostError`, code
   * `ERR_MESSAGES_LOST`). @default false
   */
  lossyTrim?: boolean
  /**
   * Visibility timeout in ms: an entry a consumer took and has not settled for this long is
   * reclaimed by another consumer of the group (a crashed process). Live handlers keep theirs.
   * @default 30_000
   */
  consumerTimeoutMs?: number
  /**
   * Most entries one `XREADGROUP` fetches (`COUNT`). A read never takes more than the
   * subscription has room for (its `prefetch`), so this only caps large prefetches; lower it
   * to spread a burst over more members of a group. @default 1_000
   */
  prefetchCount?: number
  /** How long `connect()` waits for the server, in ms. @default 10_000 */
  connectTimeoutMs?: number
  /** Most connections the transport opens: one for commands plus one per subscription. @default 50 */
  maxConnections?: number
  /** Prefix of every key: a topic's keys are `{<keyPrefix>:<topic>}:...` (one hash slot). @default 'switchyard' */
  keyPrefix?: string
  /**
   * Subscription settings every `subscribe` on this transport starts from (`fromEnv()` fills
   * them from `EVENTS_MAX_RETRIES`, `DLQ_ENABLED`, ...); options given to `subscribe` win.
   */
  subscribeDefaults?: Transport['subscribeDefaults']
  /**
   * Where the transport logs (pino-compatible): lost connections and ioredis's warnings. Without
   * it the transport logs through the logger of the bus it is given to.
   * @default the bus's logger, or `consoleLogger('warn')` outside a bus
   */
  logger?: Logger
}

/** Options with defaults applied. */
export interface ResolvedRedisOptions {
  client: Redis | Cluster | undefined
  connection: RedisOptions
  maxStreamLength: number | undefined
  lossyTrim: boolean
  consumerTimeoutMs: number
  prefetchCount: number
  connectTimeoutMs: number
  maxConnections: number
  keyPrefix: string
  subscribeDefaults: Transport['subscribeDefaults']
  logger: Logger | undefined
}

// Every option's name, for the unknown-key check (a typo fails at construction).
const KEYS = ['client', 'url', 'host', 'port', 'db', 'password', 'tls', 'maxStreamLength']
KEYS.push('lossyTrim')
KEYS.push('consumerTimeoutMs', 'prefetchCount', 'connectTimeoutMs', 'maxConnections')
KEYS.push('keyPrefix', 'subscribeDefaults', 'logger')

/**
 * Validates options and applies defaults.
 * @throws {ConfigurationError} naming the field.
 */
export function resolveOptions(config: RedisTransportOptions): ResolvedRedisOptions {
  checkKeys(config, KEYS, 'redisTransport')
  const connectTimeoutMs = num(config.connectTimeoutMs, 10_000, 'connectTimeoutMs', 1)
  const keyPrefix = checkString(config.keyPrefix ?? 'switchyard', 'redisTransport.keyPrefix')
  if (/[{}]/u.test(keyPrefix)) {
    const message = 'redisTransport.keyPrefix must not contain { or }: they mark hash tags'
    throw new ConfigurationError(message, { field: 'redisTransport.keyPrefix' })
  }
  const maxStreamLength =
    config.maxStreamLength === undefined
      ? undefined
      : num(config.maxStreamLength, 0, 'maxStreamLength', 1)
  const lossyTrim = config.lossyTrim ?? false
  if (typeof lossyTrim !== 'boolean' || (lossyTrim && maxStreamLength === undefined)) {
    const message = 'redisTransport.lossyTrim must be a boolean, and true only with maxStreamLength'
    throw new ConfigurationError(message, { field: 'redisTransport.lossyTrim' })
  }
  return {
    client: config.client,
    connection: connectionOptions(config, connectTimeoutMs),
    maxStreamLength,
    lossyTrim,
    consumerTimeoutMs: num(config.consumerTimeoutMs, 30_000, 'consumerTimeoutMs', 100),
    prefetchCount: num(config.prefetchCount, 1_000, 'prefetchCount', 1),
    connectTimeoutMs,
    maxConnections: num(config.maxConnections, 50, 'maxConnections', 2),
    keyPrefix,
    subscribeDefaults: config.subscribeDefaults,
    logger: checkLogger(config.logger, 'redisTransport.logger'),
  }
}

function num(value: number | undefined, fallback: number, field: string, min: number): number {
  return checkNumber(value ?? fallback, `redisTransport.${field}`, { min, integer: true })
}

function connectionOptions(config: RedisTransportOptions, connectTimeout: number): RedisOptions {
  const hasParts = config.host !== undefined || config.port !== undefined || config.db !== undefined
  if (config.client !== undefined && (config.url !== undefined || hasParts)) {
    const message = 'redisTransport: give either client or connection options, not both'
    throw new ConfigurationError(message, { field: 'redisTransport.client' })
  }
  if (config.url !== undefined && hasParts) {
    throw new ConfigurationError('redisTransport: give either url or host/port/db, not both', {
      field: 'redisTransport.url',
    })
  }
  const options: RedisOptions = { lazyConnect: true, connectTimeout }
  if (config.url !== undefined) {
    let url: URL
    try {
      url = new URL(checkString(config.url, 'redisTransport.url'))
    } catch (cause) {
      const message = `redisTransport.url ${JSON.stringify(config.url)} is not a URL`
      throw new ConfigurationError(message, { field: 'redisTransport.url', cause })
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw new ConfigurationError('redisTransport.url must start with redis:// or rediss://', {
        field: 'redisTransport.url',
      })
    }
    options.host = url.hostname.replace(/^\[|\]$/gu, '') || '127.0.0.1'
    options.port = url.port === '' ? 6379 : Number(url.port)
    const db = url.pathname.replace(/^\//u, '')
    if (db !== '')
      options.db = checkNumber(Number(db), 'redisTransport.url (db)', { min: 0, integer: true })
    if (url.username !== '') options.username = decodeURIComponent(url.username)
    if (url.password !== '') options.password = decodeURIComponent(url.password)
    if (url.protocol === 'rediss:') options.tls = {}
  } else {
    options.host =
      config.host === undefined ? '127.0.0.1' : checkString(config.host, 'redisTransport.host')
    options.port = checkNumber(config.port ?? 6379, 'redisTransport.port', {
      min: 1,
      max: 65_535,
      integer: true,
    })
    options.db = checkNumber(config.db ?? 0, 'redisTransport.db', { min: 0, integer: true })
  }
  if (config.password !== undefined)
    options.password = checkString(config.password, 'redisTransport.password')
  if (config.tls === true) options.tls = {}
  else if (typeof config.tls === 'object' && config.tls !== null) options.tls = config.tls
  return options
}

/**
 * Reads the conventional environment: `REDIS_URL` (default `redis://127.0.0.1:6379`),
 * `REDIS_MAX_CONNECTIONS` (`maxConnections`: one connection for commands plus one per
 * subscription, so at least 2), and the subscription defaults core reads for every transport
 * (`EVENTS_MAX_RETRIES`, `EVENTS_RETRY_BACKOFF_MS`, `EVENTS_RETRY_MAX_BACKOFF_MS`,
 * `DLQ_ENABLED`, `DLQ_TOPIC_SUFFIX`).
 * @throws {ConfigurationError} naming a variable set to something unusable.
 * @example const transport = redisTransport(fromEnv())
 */
export function fromEnv(env: Env = process.env): RedisTransportOptions {
  const read = envReader(env)
  const options: RedisTransportOptions = {
    url: read.string('REDIS_URL') ?? 'redis://127.0.0.1:6379',
  }
  const maxConnections = read.int('REDIS_MAX_CONNECTIONS')
  if (maxConnections !== undefined) {
    if (maxConnections < 2) {
      throw new ConfigurationError(
        `REDIS_MAX_CONNECTIONS must be at least 2 (one connection for commands, one per subscription), got ${maxConnections}`,
        { field: 'REDIS_MAX_CONNECTIONS' },
      )
    }
    options.maxConnections = maxConnections
  }
  const subscribeDefaults = subscribeDefaultsFromEnv(env)
  if (subscribeDefaults !== undefined) options.subscribeDefaults = subscribeDefaults
  return options
}
