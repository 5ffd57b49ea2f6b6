import { exponential } from '@switchyard/core'
import { ConfigurationError } from '@switchyard/core/transport'
import {
  type KafkaCompression,
  type KafkaSecurityProtocol,
  type KafkaSubscribeDefaults,
  type KafkaTransportOptions,
  oneOf,
  parseBrokers,
} from './options.js'

/** Where `fromEnv` reads from: `process.env` or any map of variables. */
export type Env = Record<string, string | undefined>

/**
 * Reads Olive's environment variables into transport options. Unset variables keep the
 * defaults; set but invalid ones fail at once.
 *
 * | variable | option |
 * | --- | --- |
 * | `KAFKA_BOOTSTRAP_SERVERS` | `brokers` |
 * | `KAFKA_CLIENT_ID` (else `SERVICE_NAME`) | `clientId` |
 * | `KAFKA_SECURITY_PROTOCOL` | `securityProtocol` |
 * | `KAFKA_SASL_MECHANISM`, `KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD` | `sasl` |
 * | `KAFKA_PRODUCER_ACKS`, `KAFKA_PRODUCER_RETRIES`, `KAFKA_PRODUCER_COMPRESSION` | `acks`, `retries`, `compression` |
 * | `KAFKA_PRODUCER_LINGER_MS`, `KAFKA_PRODUCER_BATCH_SIZE` | `lingerMs`, `batchSize` |
 * | `KAFKA_CONSUMER_AUTO_OFFSET_RESET` | `autoOffsetReset` |
 * | `KAFKA_CONSUMER_SESSION_TIMEOUT_MS`, `KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS` | `sessionTimeoutMs`, `heartbeatIntervalMs` |
 * | `EVENTS_MAX_RETRIES`, `EVENTS_RETRY_BACKOFF_MS`, `EVENTS_RETRY_MAX_BACKOFF_MS`, `DLQ_ENABLED` | `subscribeDefaults` |
 *
 * @throws {ConfigurationError} naming the variable that is wrong.
 * @example
 * const transport = kafkaTransport(fromEnv())
 * await bus.subscribe('employees.events', handler, { group: 'mailer' }) // EVENTS_MAX_RETRIES applies
 */
export function fromEnv(env: Env = process.env): KafkaTransportOptions {
  const read = (name: string) => {
    const value = env[name]?.trim()
    return value === undefined || value === '' ? undefined : value
  }
  const options: KafkaTransportOptions = {}
  const servers = read('KAFKA_BOOTSTRAP_SERVERS')
  if (servers !== undefined) options.brokers = parseBrokers(servers, 'KAFKA_BOOTSTRAP_SERVERS')
  const clientId = read('KAFKA_CLIENT_ID') ?? read('SERVICE_NAME')
  if (clientId !== undefined) options.clientId = clientId
  const protocol = read('KAFKA_SECURITY_PROTOCOL')
  if (protocol !== undefined) {
    options.securityProtocol = oneOf<KafkaSecurityProtocol>(
      protocol.toUpperCase(),
      ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'],
      'KAFKA_SECURITY_PROTOCOL',
    )
  }
  const mechanism = read('KAFKA_SASL_MECHANISM')
  const username = read('KAFKA_SASL_USERNAME')
  const password = read('KAFKA_SASL_PASSWORD')
  if (
    username !== undefined ||
    password !== undefined ||
    options.securityProtocol?.startsWith('SASL_')
  ) {
    if (username === undefined || password === undefined) {
      throw new ConfigurationError(
        'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD must both be set for SASL',
        {
          field: username === undefined ? 'KAFKA_SASL_USERNAME' : 'KAFKA_SASL_PASSWORD',
        },
      )
    }
    const name = oneOf(
      (mechanism ?? 'PLAIN').toLowerCase(),
      ['plain', 'scram-sha-256', 'scram-sha-512'] as const,
      'KAFKA_SASL_MECHANISM',
    )
    options.sasl = { mechanism: name, username, password }
  }
  const acks = read('KAFKA_PRODUCER_ACKS')
  if (acks !== undefined) {
    const value = oneOf(acks.toLowerCase(), ['all', '-1', '0', '1'], 'KAFKA_PRODUCER_ACKS')
    options.acks = value === 'all' ? 'all' : (Number(value) as -1 | 0 | 1)
    if (options.acks !== 'all' && options.acks !== -1) options.idempotent = false
  }
  const retries = integer(read('KAFKA_PRODUCER_RETRIES'), 'KAFKA_PRODUCER_RETRIES')
  if (retries !== undefined) options.retries = retries
  const compression = read('KAFKA_PRODUCER_COMPRESSION')
  if (compression !== undefined) {
    options.compression = oneOf<KafkaCompression>(
      compression.toLowerCase(),
      ['none', 'gzip', 'snappy', 'lz4', 'zstd'],
      'KAFKA_PRODUCER_COMPRESSION',
    )
  }
  const linger = integer(read('KAFKA_PRODUCER_LINGER_MS'), 'KAFKA_PRODUCER_LINGER_MS')
  if (linger !== undefined) options.lingerMs = linger
  const batchSize = integer(read('KAFKA_PRODUCER_BATCH_SIZE'), 'KAFKA_PRODUCER_BATCH_SIZE')
  if (batchSize !== undefined) options.batchSize = batchSize
  const reset = read('KAFKA_CONSUMER_AUTO_OFFSET_RESET')
  if (reset !== undefined) {
    options.autoOffsetReset = oneOf(
      reset.toLowerCase(),
      ['earliest', 'latest'] as const,
      'KAFKA_CONSUMER_AUTO_OFFSET_RESET',
    )
  }
  const session = integer(
    read('KAFKA_CONSUMER_SESSION_TIMEOUT_MS'),
    'KAFKA_CONSUMER_SESSION_TIMEOUT_MS',
  )
  if (session !== undefined) options.sessionTimeoutMs = session
  const heartbeat = integer(
    read('KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS'),
    'KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS',
  )
  if (heartbeat !== undefined) options.heartbeatIntervalMs = heartbeat
  const defaults = subscribeDefaults(read)
  if (defaults !== undefined) options.subscribeDefaults = defaults
  return options
}

function subscribeDefaults(
  read: (name: string) => string | undefined,
): KafkaSubscribeDefaults | undefined {
  const defaults: KafkaSubscribeDefaults = {}
  const retries = integer(read('EVENTS_MAX_RETRIES'), 'EVENTS_MAX_RETRIES')
  const baseMs = integer(read('EVENTS_RETRY_BACKOFF_MS'), 'EVENTS_RETRY_BACKOFF_MS')
  const maxMs = integer(read('EVENTS_RETRY_MAX_BACKOFF_MS'), 'EVENTS_RETRY_MAX_BACKOFF_MS')
  if (retries !== undefined || baseMs !== undefined || maxMs !== undefined) {
    defaults.retry = {}
    // Olive counts retries after the first attempt; Switchyard counts attempts.
    if (retries !== undefined) defaults.retry.maxAttempts = retries + 1
    if (baseMs !== undefined || maxMs !== undefined) {
      const base = baseMs ?? 100
      defaults.retry.backoff = exponential({ baseMs: base, maxMs: Math.max(base, maxMs ?? 32_000) })
    }
  }
  const dlq = read('DLQ_ENABLED')
  if (dlq !== undefined) {
    const enabled = oneOf(
      dlq.toLowerCase(),
      ['true', 'false', '1', '0', 'yes', 'no'],
      'DLQ_ENABLED',
    )
    if (['false', '0', 'no'].includes(enabled)) defaults.deadLetter = false
  }
  return Object.keys(defaults).length === 0 ? undefined : defaults
}

function integer(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value)) {
    throw new ConfigurationError(`${name} must be a whole number, got ${JSON.stringify(value)}`, {
      field: name,
    })
  }
  return Number(value)
}
