import type { ConnectionOptions } from 'node:tls'
import type { PublishRetryOptions } from '@switchyard/core'
import {
  ConfigurationError,
  checkKeys,
  checkLogger,
  checkNumber,
  checkString,
  type Env,
  envReader,
  type Logger,
  type SubscribeDefaults,
  subscribeDefaultsFromEnv,
} from '@switchyard/core/transport'

export type { Env } from '@switchyard/core/transport'

/** What the adapter needs from a client: a KafkaJS `Kafka` instance has it. */
export interface KafkaClientLike {
  /** Makes a producer. */
  producer(config?: object): unknown
  /** Makes a group consumer. */
  consumer(config: { groupId: string }): unknown
  /** Makes an admin client. */
  admin(config?: object): unknown
}

/** Producer compression. `gzip` is built into kafkajs; the others need a codec package registered. */
export type KafkaCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'

/** How the client talks to the brokers (Olive's and DotMac's `security_protocol`). */
export type KafkaSecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL'

/** SASL credentials. */
export interface KafkaSasl {
  /** Mechanism. */
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'
  /** User name. */
  username: string
  /** Password. */
  password: string
}

/** Options of `kafkaTransport` (Olive's `EventsConfig` and DotMac's `KafkaConfig`, in one place). */
export interface KafkaTransportOptions {
  /** Bring your own kafkajs `Kafka` instance (or a KafkaJS-compatible one); connection options are then ignored. */
  client?: KafkaClientLike
  /** Bootstrap servers: an array or a comma-separated string. @default '127.0.0.1:9092' */
  brokers?: string | readonly string[]
  /** Client id sent to the brokers. @default 'switchyard' */
  clientId?: string
  /** `SSL` and `SASL_SSL` turn TLS on, `SASL_*` need `sasl`. @default 'PLAINTEXT' */
  securityProtocol?: KafkaSecurityProtocol
  /** TLS: `true` or Node TLS options (CA, client certificate). @default per securityProtocol */
  ssl?: boolean | ConnectionOptions
  /** SASL PLAIN or SCRAM credentials. */
  sasl?: KafkaSasl
  /** Broker acknowledgements a publish waits for: `all` (-1), 1 or 0. @default 'all' */
  acks?: 'all' | -1 | 0 | 1
  /**
   * Retries of a failed consumer, commit or admin request inside kafkajs. Not of a publish: the
   * producer sends each request once and the bus retries what failed (`publishRetry`). @default 5
   */
  retries?: number
  /** Producer compression. @default 'none' */
  compression?: KafkaCompression
  /** Wait this long to gather concurrent publishes into one request; 0 sends at once when idle. @default 0 */
  lingerMs?: number
  /** Most bytes (keys, values, headers) of one partition merged into one produce request. @default 1_048_576 */
  batchSize?: number
  /** How long the broker may take to confirm a produce request. @default 30_000 */
  requestTimeoutMs?: number
  /** Start of partitions Switchyard did not position (added later, or offsets expired). @default 'latest' */
  autoOffsetReset?: 'earliest' | 'latest'
  /** Consumer session timeout: a silent member is dropped from its group after this. @default 30_000 */
  sessionTimeoutMs?: number
  /** Consumer heartbeat interval; also how fast a member notices a rebalance. @default 3_000 */
  heartbeatIntervalMs?: number
  /** Longest time members get to rejoin during a rebalance. @default 60_000 */
  rebalanceTimeoutMs?: number
  /** Longest time an idle fetch waits on the broker for new records. @default 500 */
  maxWaitTimeMs?: number
  /**
   * Most bytes one fetch takes from a partition (Kafka's `max.partition.fetch.bytes`). The broker
   * cuts a response at this size and the record batch it cuts is fetched again, so small values
   * waste a share of every fetch; kafkajs's own default is 1 MiB. @default 4_194_304
   */
  fetchMaxBytesPerPartition?: number
  /**
   * Most bytes of one fetch over all its partitions (Kafka's `fetch.max.bytes`).
   * @default 16_777_216, or fetchMaxBytesPerPartition when that is larger
   */
  fetchMaxBytes?: number
  /** Offsets of handled events are committed at most this often, per subscription. @default 500 */
  commitIntervalMs?: number
  /** Create missing topics (`false`: refuse with a `ConfigurationError`). @default true */
  createTopics?: boolean
  /** Partitions of created topics (APG's `partitions`); -1 takes the broker's `num.partitions`. @default -1 */
  partitions?: number
  /** Replication factor of created topics (APG's `replication_factor`); -1 takes the broker default. @default -1 */
  replicationFactor?: number
  /** kafkajs log level: `nothing`, `error`, `warn`, `info`, `debug`. @default 'error' */
  logLevel?: 'nothing' | 'error' | 'warn' | 'info' | 'debug'
  /**
   * Where the transport and kafkajs log (pino-compatible): kafkajs lines at or above `logLevel`,
   * its errors and warnings at `warn`, the rest at `info`/`debug`.
   * @default the bus's logger, or `consoleLogger('warn')` outside a bus
   */
  logger?: Logger
  /**
   * How long the first contact with a bootstrap broker may take: the TCP (and TLS) connection
   * and its answer to a Kafka `ApiVersions` request. An address that refuses, is not Kafka or
   * does not answer in time fails `connect()` (and every publish waiting on it) at once;
   * `health()` probes the same way. Not used with `client`. @default 5_000
   */
  connectTimeoutMs?: number
  /**
   * Subscription settings read by `fromEnv()` (core's `subscribeDefaultsFromEnv`). The bus
   * applies them to every subscription on this transport; options given to `bus.subscribe` win.
   */
  subscribeDefaults?: SubscribeDefaults | undefined
}

/** Options with defaults applied. */
export type ResolvedKafkaOptions = Required<
  Omit<
    KafkaTransportOptions,
    'client' | 'brokers' | 'securityProtocol' | 'sasl' | 'acks' | 'subscribeDefaults' | 'logger'
  >
> & {
  brokers: string[]
  sasl: KafkaSasl | undefined
  acks: -1 | 0 | 1
  /** The transport's own logger, when it was given one. */
  logger: Logger | undefined
}

const KEYS = [
  ...['client', 'brokers', 'clientId', 'securityProtocol', 'ssl', 'sasl', 'acks', 'retries'],
  ...['compression', 'lingerMs', 'batchSize', 'requestTimeoutMs', 'autoOffsetReset'],
  ...['sessionTimeoutMs', 'heartbeatIntervalMs', 'rebalanceTimeoutMs', 'maxWaitTimeMs'],
  ...['fetchMaxBytesPerPartition', 'fetchMaxBytes', 'commitIntervalMs', 'createTopics'],
  ...['partitions', 'replicationFactor', 'logLevel', 'logger', 'subscribeDefaults'],
  'connectTimeoutMs',
]
const COMPRESSIONS: KafkaCompression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
const PROTOCOLS: KafkaSecurityProtocol[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']
const MECHANISMS: KafkaSasl['mechanism'][] = ['plain', 'scram-sha-256', 'scram-sha-512']
const LOG_LEVELS: ResolvedKafkaOptions['logLevel'][] = ['nothing', 'error', 'warn', 'info', 'debug']

/** Validates options and applies defaults. @throws {ConfigurationError} naming the field. */
export function resolveOptions(options: KafkaTransportOptions): ResolvedKafkaOptions {
  checkKeys(options, KEYS, 'kafkaTransport')
  type Key = keyof KafkaTransportOptions
  const field = (name: Key) => `kafkaTransport.${name}`
  const fail = (name: Key, message: string) => {
    throw new ConfigurationError(message, { field: field(name) })
  }
  const number = (name: Key, fallback: number, min: number, integer = false) =>
    checkNumber(options[name] ?? fallback, field(name), { min, integer })
  const protocol = oneOf(
    options.securityProtocol ?? 'PLAINTEXT',
    PROTOCOLS,
    field('securityProtocol'),
  )
  const sasl = options.sasl === undefined ? undefined : checkSasl(options.sasl)
  if (protocol.startsWith('SASL_') && sasl === undefined)
    fail('sasl', `securityProtocol ${protocol} needs sasl credentials`)
  const acks = options.acks === undefined || options.acks === 'all' ? -1 : options.acks
  const heartbeatIntervalMs = number('heartbeatIntervalMs', 3_000, 1)
  const sessionTimeoutMs = number('sessionTimeoutMs', 30_000, 1)
  if (heartbeatIntervalMs >= sessionTimeoutMs)
    fail(
      'heartbeatIntervalMs',
      'heartbeatIntervalMs must be lower than sessionTimeoutMs (a third of it is usual)',
    )
  const fetchMaxBytesPerPartition = number('fetchMaxBytesPerPartition', 4_194_304, 1, true)
  const fetchMaxBytes = number(
    'fetchMaxBytes',
    Math.max(16_777_216, fetchMaxBytesPerPartition),
    1,
    true,
  )
  if (fetchMaxBytes < fetchMaxBytesPerPartition)
    fail('fetchMaxBytes', 'fetchMaxBytes must be at least fetchMaxBytesPerPartition')
  return {
    brokers: parseBrokers(options.brokers ?? '127.0.0.1:9092', field('brokers')),
    clientId: checkString(options.clientId ?? 'switchyard', field('clientId')),
    ssl: options.ssl ?? protocol.endsWith('SSL'),
    sasl,
    acks: oneOf(acks, [-1, 0, 1] as const, field('acks')),
    retries: number('retries', 5, 0, true),
    compression: oneOf(options.compression ?? 'none', COMPRESSIONS, field('compression')),
    lingerMs: number('lingerMs', 0, 0),
    batchSize: number('batchSize', 1_048_576, 1, true),
    requestTimeoutMs: number('requestTimeoutMs', 30_000, 1),
    autoOffsetReset: oneOf(
      options.autoOffsetReset ?? 'latest',
      ['earliest', 'latest'] as const,
      field('autoOffsetReset'),
    ),
    sessionTimeoutMs,
    heartbeatIntervalMs,
    rebalanceTimeoutMs: number('rebalanceTimeoutMs', 60_000, 1),
    maxWaitTimeMs: number('maxWaitTimeMs', 500, 0),
    fetchMaxBytesPerPartition,
    fetchMaxBytes,
    commitIntervalMs: number('commitIntervalMs', 500, 0),
    createTopics: options.createTopics ?? true,
    partitions: partitionCount(options.partitions ?? -1, field('partitions')),
    replicationFactor: partitionCount(options.replicationFactor ?? -1, field('replicationFactor')),
    logLevel: oneOf(options.logLevel ?? 'error', LOG_LEVELS, field('logLevel')),
    logger: checkLogger(options.logger, field('logger')),
    connectTimeoutMs: number('connectTimeoutMs', 5_000, 1),
  }
}

/** Splits `host:port,host:port` and checks each entry. @throws {ConfigurationError} */
export function parseBrokers(value: string | readonly string[], field: string): string[] {
  const list = (typeof value === 'string' ? value.split(',') : [...value]).map((b) =>
    String(b).trim(),
  )
  const brokers = list.filter((b) => b.length > 0)
  if (brokers.length === 0) throw new ConfigurationError(`${field} lists no broker`, { field })
  for (const broker of brokers) {
    if (!/^[^\s:/]+:\d{1,5}$/.test(broker.replace(/^\[(.+)\]/, 'ipv6'))) {
      throw new ConfigurationError(`${field}: "${broker}" is not host:port`, { field })
    }
  }
  return brokers
}

function checkSasl(sasl: KafkaSasl): KafkaSasl {
  checkKeys(sasl, ['mechanism', 'username', 'password'], 'kafkaTransport.sasl')
  return {
    mechanism: oneOf(sasl.mechanism, MECHANISMS, 'kafkaTransport.sasl.mechanism'),
    username: checkString(sasl.username, 'kafkaTransport.sasl.username'),
    password: checkString(sasl.password, 'kafkaTransport.sasl.password'),
  }
}

/** @throws {ConfigurationError} unless `value` is one of `allowed`. */
export function oneOf<T>(value: unknown, allowed: readonly T[], field: string): T {
  if (!allowed.includes(value as T)) {
    throw new ConfigurationError(
      `${field} must be one of ${allowed.join(', ')}; got ${JSON.stringify(value)}`,
      {
        field,
      },
    )
  }
  return value as T
}

function partitionCount(value: unknown, field: string): number {
  const n = checkNumber(value, field, { integer: true, min: -1 })
  if (n === 0)
    throw new ConfigurationError(`${field} must be -1 (broker default) or at least 1`, { field })
  return n
}

/** One variable of two spellings: both set to different values is an error naming both. */
function alias(
  read: ReturnType<typeof envReader>,
  names: [string, string],
  same = (v: string) => v,
) {
  const [a, b] = names.map((name) => read.string(name))
  if (a !== undefined && b !== undefined && same(a) !== same(b)) {
    throw new ConfigurationError(
      `${names[0]} and ${names[1]} are the same setting and are set to different values; set one`,
      { field: names[1] },
    )
  }
  return a !== undefined
    ? { name: names[0], value: a }
    : b !== undefined
      ? { name: names[1], value: b }
      : undefined
}

const ENV_LOG_LEVELS: Record<string, ResolvedKafkaOptions['logLevel']> = {
  ...{ nothing: 'nothing', off: 'nothing', critical: 'error', error: 'error' },
  ...{ warn: 'warn', warning: 'warn', info: 'info', debug: 'debug' },
}

/**
 * Reads the Kafka variables of the seed systems into transport options (the root README's
 * "Environment variables of the seed systems" table maps each): `KAFKA_BOOTSTRAP_SERVERS` (or
 * Marty's `KAFKA_BROKERS`), `KAFKA_CLIENT_ID` (else `SERVICE_NAME`), `KAFKA_SECURITY_PROTOCOL`,
 * `KAFKA_SASL_*`, `KAFKA_PRODUCER_ACKS` (or APG's `KAFKA_ACKS`), `KAFKA_PRODUCER_COMPRESSION`,
 * `_LINGER_MS`, `_BATCH_SIZE`, `KAFKA_CONSUMER_AUTO_OFFSET_RESET`, `_SESSION_TIMEOUT_MS`,
 * `_HEARTBEAT_INTERVAL_MS`, `KAFKA_CONSUMER_ENABLE_AUTO_COMMIT` (`false` only: Switchyard commits
 * after handling), `KAFKA_LOG_LEVEL` (the client's log level), and core's
 * `subscribeDefaultsFromEnv` (`EVENTS_*`, `DLQ_*`) into `subscribeDefaults`. The producer
 * retries (`KAFKA_PRODUCER_RETRIES`, APG's `KAFKA_RETRIES`) are checked here but are the bus's
 * `publishRetry`: read them with `publishRetryFromEnv`. Unset variables keep the defaults; set
 * but invalid or contradictory ones fail at once.
 * @throws {ConfigurationError} naming the variable that is wrong.
 * @example
 * const transport = kafkaTransport(fromEnv())
 * await bus.subscribe('employees.events', handler, { group: 'mailer' }) // EVENTS_MAX_RETRIES applies
 */
export function fromEnv(env: Env = process.env): KafkaTransportOptions {
  const read = envReader(env)
  const options: KafkaTransportOptions = {}
  const set = <K extends keyof KafkaTransportOptions>(key: K, value: KafkaTransportOptions[K]) => {
    if (value !== undefined) options[key] = value
  }
  const list = (v: string) =>
    v
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean)
      .join(',')
  const servers = alias(read, ['KAFKA_BOOTSTRAP_SERVERS', 'KAFKA_BROKERS'], list)
  if (servers !== undefined) options.brokers = parseBrokers(servers.value, servers.name)
  set('clientId', read.string('KAFKA_CLIENT_ID') ?? read.string('SERVICE_NAME'))
  const protocols = ['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'] as const
  const protocol = read.oneOf('KAFKA_SECURITY_PROTOCOL', protocols)
  set('securityProtocol', protocol?.toUpperCase() as KafkaSecurityProtocol | undefined)
  const username = read.string('KAFKA_SASL_USERNAME')
  const password = read.string('KAFKA_SASL_PASSWORD')
  const mechanism = read.oneOf('KAFKA_SASL_MECHANISM', MECHANISMS)
  const anySasl = [username, password, mechanism].some((v) => v !== undefined)
  if (anySasl && (protocol === 'plaintext' || protocol === 'ssl')) {
    // kafkajs would authenticate anyway, against a listener that expects no SASL.
    throw new ConfigurationError(
      `KAFKA_SASL_* variables are set but KAFKA_SECURITY_PROTOCOL=${protocol.toUpperCase()} uses no SASL: set KAFKA_SECURITY_PROTOCOL=SASL_${protocol === 'ssl' ? 'SSL' : 'PLAINTEXT'} to authenticate, or unset KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`,
      { field: 'KAFKA_SECURITY_PROTOCOL' },
    )
  }
  if (anySasl || protocol?.startsWith('sasl_')) {
    if (username === undefined || password === undefined) {
      throw new ConfigurationError(
        'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD must both be set for SASL',
        { field: username === undefined ? 'KAFKA_SASL_USERNAME' : 'KAFKA_SASL_PASSWORD' },
      )
    }
    options.sasl = { mechanism: mechanism ?? 'plain', username, password }
  }
  const acksOf = (v: string) => (v.toLowerCase() === 'all' ? '-1' : v)
  const acksName = alias(read, ['KAFKA_PRODUCER_ACKS', 'KAFKA_ACKS'], acksOf)?.name
  const acks = acksName === undefined ? undefined : read.oneOf(acksName, ['all', '-1', '0', '1'])
  set('acks', acks === undefined || acks === 'all' ? acks : (Number(acks) as -1 | 0 | 1))
  publishRetryFromEnv(env)
  set('compression', read.oneOf('KAFKA_PRODUCER_COMPRESSION', COMPRESSIONS))
  set('lingerMs', read.int('KAFKA_PRODUCER_LINGER_MS'))
  set('batchSize', read.int('KAFKA_PRODUCER_BATCH_SIZE'))
  set('autoOffsetReset', read.oneOf('KAFKA_CONSUMER_AUTO_OFFSET_RESET', ['earliest', 'latest']))
  set('sessionTimeoutMs', read.int('KAFKA_CONSUMER_SESSION_TIMEOUT_MS'))
  set('heartbeatIntervalMs', read.int('KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS'))
  if (read.bool('KAFKA_CONSUMER_ENABLE_AUTO_COMMIT') === true) {
    throw new ConfigurationError(
      'KAFKA_CONSUMER_ENABLE_AUTO_COMMIT=true cannot be honoured: Switchyard commits an offset only after its event was handled or dead-lettered (every commitIntervalMs), so a crash never skips an event; unset it or set it to false',
      { field: 'KAFKA_CONSUMER_ENABLE_AUTO_COMMIT' },
    )
  }
  const level = read.oneOf('KAFKA_LOG_LEVEL', Object.keys(ENV_LOG_LEVELS))
  set('logLevel', level === undefined ? undefined : ENV_LOG_LEVELS[level])
  set('subscribeDefaults', subscribeDefaultsFromEnv(env))
  return options
}

/**
 * The bus's `publishRetry` from the producer-retry variables (Olive's `KAFKA_PRODUCER_RETRIES`,
 * APG's `KAFKA_RETRIES`: retries after the first attempt, so `maxAttempts` is one more). The
 * transport sends each produce request once and the bus retries a retryable failure, so these
 * belong to `createEventBus`, not to the transport. Empty (the bus's default) when neither is set.
 * @throws {ConfigurationError} naming the variable that is not a whole number, or both when they differ.
 * @example
 * const bus = createEventBus({ transport: kafkaTransport(fromEnv()), publishRetry: publishRetryFromEnv() })
 */
export function publishRetryFromEnv(env: Env = process.env): PublishRetryOptions {
  const read = envReader(env)
  const name = alias(read, ['KAFKA_PRODUCER_RETRIES', 'KAFKA_RETRIES'])?.name
  const retries = name === undefined ? undefined : read.int(name)
  return retries === undefined ? {} : { maxAttempts: retries + 1 }
}
