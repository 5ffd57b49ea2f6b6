// Feeds the example environment blocks of the seed READMEs (copied as they appear, into
// ../fixtures) to the `fromEnv` readers, and checks that each variable lands where the root
// README's "Environment variables of the seed systems" table says, or is refused naming itself.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  fromEnv as kafkaFromEnv,
  publishRetryFromEnv,
} from '../../../packages/adapter-kafka/src/options.js'
import { fromEnv as natsFromEnv } from '../../../packages/adapter-nats/src/options.js'
import { fromEnv as redisFromEnv } from '../../../packages/adapter-redis/src/options.js'
import { subscribeDefaultsFromEnv } from '../../../packages/core/src/env.js'
import { createEvent } from '../../../packages/core/src/envelope.js'
import { readConfig } from '../../../packages/gateway/src/bin/config.js'
import {
  observabilityFromEnv,
  observabilityResourceFromEnv,
} from '../../../packages/otel/src/observability-from-env.js'
import { outboxFromEnv } from '../../../packages/outbox/src/publisher.js'
import { fromEnv as martyFromEnv } from '../../../packages/schemas/src/marty/config.js'

type Env = Record<string, string>
const fixtures = join(import.meta.dirname, '..', 'fixtures')

/** `NAME=value` and `export NAME="value"` lines; comments and blank lines skipped. */
function parse(text: string): Env {
  const env: Env = {}
  for (const raw of text.split('\n')) {
    const line = raw.trim().replace(/^export\s+/u, '')
    if (line === '' || line.startsWith('#')) continue
    const at = line.indexOf('=')
    env[line.slice(0, at)] = line.slice(at + 1).replace(/^"(.*)"$/u, '$1')
  }
  return env
}

const seed = (name: string) => parse(readFileSync(join(fixtures, `${name}.env`), 'utf8'))
const olive = seed('olive')
const apg = seed('apg')
const apgTroubleshooting = seed('apg-troubleshooting')
const anumate = seed('anumate')
const marty = seed('marty')
const without = (env: Env, ...names: string[]) =>
  Object.fromEntries(Object.entries(env).filter(([name]) => !names.includes(name)))

/** The error `fn` throws; fails the test when it throws none. */
function thrown(fn: () => unknown): Error & { field?: string } {
  try {
    fn()
  } catch (error) {
    return error as Error & { field?: string }
  }
  throw new Error('expected a ConfigurationError')
}

describe('seed env - Olive', () => {
  it('Olive - the Kafka reader refuses its SASL lines under PLAINTEXT, naming the variable', () => {
    const error = thrown(() => kafkaFromEnv(olive))
    expect(error.name).toBe('ConfigurationError')
    expect(error.field).toBe('KAFKA_SECURITY_PROTOCOL')
    expect(error.message).toMatch(/SASL_PLAINTEXT/)
    expect(error.message).toMatch(/KAFKA_SASL_USERNAME/)
  })

  it('Olive - with SASL_PLAINTEXT every Kafka variable lands on a transport option', () => {
    const options = kafkaFromEnv({ ...olive, KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT' })
    expect(options).toMatchObject({
      brokers: ['localhost:9092'],
      clientId: 'my-service',
      securityProtocol: 'SASL_PLAINTEXT',
      sasl: { mechanism: 'plain', username: 'your_username', password: 'your_password' },
      acks: 'all',
      compression: 'gzip',
      autoOffsetReset: 'latest',
    })
    // The transport sends once; the bus retries: 5 retries are 6 attempts.
    expect(publishRetryFromEnv(olive)).toEqual({ maxAttempts: 6 })
    expect(options).not.toHaveProperty('retries')
    expect(options.subscribeDefaults?.retry?.maxAttempts).toBe(4)
    // Without the SASL lines, as a PLAINTEXT service would run it.
    const plain = kafkaFromEnv(
      without(olive, 'KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'),
    )
    expect(plain).toMatchObject({ securityProtocol: 'PLAINTEXT', acks: 'all' })
    expect(plain).not.toHaveProperty('sasl')
  })

  it('Olive - KAFKA_CONSUMER_ENABLE_AUTO_COMMIT: false is what Switchyard does, true is refused', () => {
    expect(() => kafkaFromEnv({ KAFKA_CONSUMER_ENABLE_AUTO_COMMIT: 'false' })).not.toThrow()
    const error = thrown(() => kafkaFromEnv({ KAFKA_CONSUMER_ENABLE_AUTO_COMMIT: 'true' }))
    expect(error.field).toBe('KAFKA_CONSUMER_ENABLE_AUTO_COMMIT')
    expect(error.message).toMatch(/handled or dead-lettered/)
  })

  it('Olive - EVENTS_* and DLQ_ENABLED are the subscription defaults of every transport', () => {
    const defaults = subscribeDefaultsFromEnv(olive)
    expect(defaults?.retry?.maxAttempts).toBe(4)
    const backoff = defaults!.retry!.backoff!
    expect(backoff(1)).toBeGreaterThanOrEqual(500)
    expect(backoff(1)).toBeLessThanOrEqual(1_000)
    // DLQ_ENABLED=true keeps the bus's dead-lettering (on by default): nothing to override.
    expect(defaults).not.toHaveProperty('deadLetter')
    expect(subscribeDefaultsFromEnv({ DLQ_ENABLED: 'false' })).toEqual({ deadLetter: false })
    for (const read of [redisFromEnv, natsFromEnv]) {
      expect(read(olive).subscribeDefaults?.retry?.maxAttempts).toBe(4)
    }
  })

  it('Olive - observabilityFromEnv: otel, then logging with service, version and environment', async () => {
    const lines: Record<string, unknown>[] = []
    const log = (fields: Record<string, unknown>) => lines.push(fields)
    const logger = { info: log, warn: log, error: log }
    const middleware = observabilityFromEnv(olive, { logger })
    expect(middleware.map((m) => m.name)).toEqual(['otel', 'logging'])
    const event = createEvent({ type: 'employee.created', source: 'hr', data: {} })
    await middleware[1]!.publish!(
      { topic: 'employees', event, transport: 'memory' },
      async () => {},
    )
    expect(lines).toEqual([
      expect.objectContaining({
        service: 'my-service',
        service_version: '1.0.0',
        environment: 'production',
        event_type: 'employee.created',
      }),
    ])
    expect(observabilityResourceFromEnv(olive)).toEqual({
      'service.name': 'my-service',
      'service.version': '1.0.0',
      'deployment.environment.name': 'production',
    })
    const off = { EVENTS_TRACING_ENABLED: 'false', EVENTS_METRICS_ENABLED: 'no' }
    expect(observabilityFromEnv({ ...olive, ...off, EVENTS_LOGGING_ENABLED: 'off' })).toEqual([])
    const error = thrown(() => observabilityFromEnv({ EVENTS_LOGGING_ENABLED: 'maybe' }))
    expect(error.field).toBe('EVENTS_LOGGING_ENABLED')
    expect(thrown(() => observabilityFromEnv({ EVENTS_LOGGING_ENABLED: 'true' })).field).toBe(
      'SERVICE_NAME',
    )
  })
})

describe('seed env - APG', () => {
  it('APG - KAFKA_ACKS is the producer acks, KAFKA_RETRIES the bus publish retries', () => {
    expect(kafkaFromEnv(apg)).toMatchObject({
      brokers: ['localhost:9092'],
      securityProtocol: 'PLAINTEXT',
      acks: 'all',
    })
    expect(kafkaFromEnv({ KAFKA_ACKS: '1' }).acks).toBe(1)
    expect(kafkaFromEnv({ KAFKA_ACKS: '0' }).acks).toBe(0)
    expect(publishRetryFromEnv(apg)).toEqual({ maxAttempts: 4 })
    expect(thrown(() => kafkaFromEnv({ KAFKA_ACKS: 'leader' })).field).toBe('KAFKA_ACKS')
    expect(thrown(() => kafkaFromEnv({ KAFKA_RETRIES: 'lots' })).field).toBe('KAFKA_RETRIES')
    // Two spellings of one setting must agree ('all' and -1 do).
    expect(kafkaFromEnv({ KAFKA_ACKS: 'all', KAFKA_PRODUCER_ACKS: '-1' }).acks).toBe(-1)
    const conflict = thrown(() => kafkaFromEnv({ KAFKA_ACKS: '1', KAFKA_PRODUCER_ACKS: 'all' }))
    expect(conflict.message).toMatch(/KAFKA_PRODUCER_ACKS and KAFKA_ACKS/)
    const retries = thrown(() =>
      publishRetryFromEnv({ KAFKA_RETRIES: '3', KAFKA_PRODUCER_RETRIES: '5' }),
    )
    expect(retries.message).toMatch(/KAFKA_PRODUCER_RETRIES and KAFKA_RETRIES/)
  })

  it('APG - REDIS_URL and REDIS_MAX_CONNECTIONS', () => {
    expect(redisFromEnv(apg)).toEqual({ url: 'redis://localhost:6379/0', maxConnections: 100 })
    expect(thrown(() => redisFromEnv({ REDIS_MAX_CONNECTIONS: '1' })).field).toBe(
      'REDIS_MAX_CONNECTIONS',
    )
  })

  it('APG - API_*, JWT_*, METRICS_ENABLED, TRACING_ENABLED, DATABASE_URL are the gateway bin', async () => {
    const config = await readConfig(apg)
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 8080,
      secret: 'your-secret-key',
      algorithm: 'HS256',
      expirationHours: 24,
      metrics: true,
      tracing: true,
      databaseUrl: 'postgresql://user:pass@localhost:5432/apg_esb',
      transport: 'kafka',
    })
    expect((await readConfig({ ...apg, ...apgTroubleshooting })).logLevel).toBe('debug')
  })

  it('APG - KAFKA_LOG_LEVEL is the client log level; KAFKA_HEAP_OPTS is read by no reader', () => {
    expect(kafkaFromEnv(apgTroubleshooting)).toEqual({ logLevel: 'debug' })
    expect(kafkaFromEnv({ KAFKA_LOG_LEVEL: 'WARNING' }).logLevel).toBe('warn')
    expect(thrown(() => kafkaFromEnv({ KAFKA_LOG_LEVEL: 'loud' })).field).toBe('KAFKA_LOG_LEVEL')
  })
})

describe('seed env - Anumate', () => {
  it('Anumate - NATS_CLUSTER_ID is refused: a NATS Streaming setting JetStream has no use for', () => {
    const error = thrown(() => natsFromEnv(anumate))
    expect(error.field).toBe('NATS_CLUSTER_ID')
    expect(error.message).toMatch(/NATS Streaming/)
  })

  it('Anumate - the stream variables make the two streams, subjects derived from the catalog layout', () => {
    const options = natsFromEnv(without(anumate, 'NATS_CLUSTER_ID'))
    expect(options).toMatchObject({
      servers: 'nats://localhost:4222',
      maxDeliver: 5,
      streams: [
        {
          name: 'ANUMATE_EVENTS',
          subjects: ['anumate.*'],
          maxMsgs: 1_000_000,
          maxBytes: 1_073_741_824,
          maxAgeMs: 604_800_000,
        },
        { name: 'ANUMATE_DEAD_LETTERS', subjects: ['anumate.*.dlq'] },
      ],
      subscribeDefaults: { retry: { maxAttempts: 5 } },
    })
    expect(redisFromEnv(anumate)).toEqual({ url: 'redis://localhost:6379' })
  })

  it('Anumate - API_HOST=0.0.0.0 makes the gateway bin ask for JWT_SECRET_KEY', async () => {
    await expect(readConfig(anumate)).rejects.toThrow(/JWT_SECRET_KEY/)
    expect(await readConfig({ ...anumate, JWT_SECRET_KEY: 'k'.repeat(32) })).toMatchObject({
      host: '0.0.0.0',
      port: 8080,
    })
  })
})

describe('seed env - Marty', () => {
  it('Marty - KAFKA_BROKERS is the bootstrap servers; a different KAFKA_BOOTSTRAP_SERVERS is refused', () => {
    expect(kafkaFromEnv(marty)).toMatchObject({
      brokers: ['localhost:9092'],
      clientId: 'user-service',
    })
    expect(kafkaFromEnv({ ...marty, KAFKA_BOOTSTRAP_SERVERS: ' localhost:9092' }).brokers).toEqual([
      'localhost:9092',
    ])
    const error = thrown(() => kafkaFromEnv({ ...marty, KAFKA_BOOTSTRAP_SERVERS: 'k2:9092' }))
    expect(error.message).toMatch(/KAFKA_BOOTSTRAP_SERVERS and KAFKA_BROKERS/)
    expect(thrown(() => kafkaFromEnv({ KAFKA_BROKERS: 'no-port' })).field).toBe('KAFKA_BROKERS')
  })

  it('Marty - SERVICE_NAME, EVENT_TOPIC_PREFIX, USE_OUTBOX_PATTERN: the schemas and outbox readers', () => {
    expect(martyFromEnv(marty)).toEqual({
      serviceName: 'user-service',
      topicPrefix: 'marty',
      useOutbox: true,
    })
    expect(outboxFromEnv(marty).enabled).toBe(true)
  })
})

describe('seed env - the README table', () => {
  it('lists every variable of every seed block, each once', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', '..', 'README.md'), 'utf8')
    const start = readme.indexOf('## Environment variables of the seed systems')
    expect(start).toBeGreaterThan(0)
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1))
    const rows = section
      .split('\n')
      .filter((line) => /^\| `[A-Z]/u.test(line))
      .map((line) => /^\| `([A-Z0-9_]+)`/u.exec(line)![1]!)
    const variables = readdirSync(fixtures).flatMap((file) =>
      Object.keys(parse(readFileSync(join(fixtures, file), 'utf8'))),
    )
    for (const name of new Set(variables)) expect(rows, name).toContain(name)
    expect(rows.length).toBe(new Set(rows).size)
  })
})
