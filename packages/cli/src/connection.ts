import {
  consoleLogger,
  createEventBus,
  type EventBus,
  type Logger,
  silentLogger,
} from '@switchyard/core'
import type { Transport } from '@switchyard/core/transport'
import { UsageError } from './exit-codes.js'

/** The transports the CLI can reach. */
export type TransportKind = 'memory' | 'redis' | 'nats' | 'kafka'

/** Where the CLI connects: a transport kind and the environment its adapter's `fromEnv()` reads. */
export interface Target {
  kind: TransportKind
  env: Record<string, string | undefined>
  /** The address to show (password hidden). */
  address: string
}

/**
 * The target of `--url`, or of the environment as the gateway bin reads it: `SWITCHYARD_TRANSPORT`,
 * else the first of `KAFKA_BOOTSTRAP_SERVERS`/`KAFKA_BROKERS`, `REDIS_URL`, `NATS_URL`, else memory.
 * A URL is handed to the adapter's `fromEnv()` as its variable, so the other variables
 * (credentials, TLS, stream names) still apply.
 * @throws {UsageError} for a URL of no known scheme.
 */
export function resolveTarget(url: string | undefined, env: NodeJS.ProcessEnv): Target {
  if (url !== undefined) return fromUrl(url, env)
  const chosen = env.SWITCHYARD_TRANSPORT?.toLowerCase()
  if (chosen !== undefined && chosen !== '') {
    if (chosen === 'memory' || chosen === 'redis' || chosen === 'nats' || chosen === 'kafka')
      return { kind: chosen, env, address: addressOf(chosen, env) }
    throw new UsageError(
      `SWITCHYARD_TRANSPORT must be memory, redis, nats or kafka, got "${chosen}"`,
      { field: 'SWITCHYARD_TRANSPORT' },
    )
  }
  const kind: TransportKind =
    env.KAFKA_BOOTSTRAP_SERVERS || env.KAFKA_BROKERS
      ? 'kafka'
      : env.REDIS_URL
        ? 'redis'
        : env.NATS_URL
          ? 'nats'
          : 'memory'
  return { kind, env, address: addressOf(kind, env) }
}

function addressOf(kind: TransportKind, env: NodeJS.ProcessEnv): string {
  if (kind === 'kafka') return `kafka://${env.KAFKA_BOOTSTRAP_SERVERS ?? env.KAFKA_BROKERS ?? ''}`
  if (kind === 'redis') return hidePassword(env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  if (kind === 'nats') return hidePassword(env.NATS_URL ?? 'nats://127.0.0.1:4222')
  return 'memory:'
}

function hidePassword(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString().replace(/\/$/, '')
  } catch {
    return url
  }
}

function fromUrl(url: string, env: NodeJS.ProcessEnv): Target {
  if (url === 'memory:' || url === 'memory://') return { kind: 'memory', env, address: 'memory:' }
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw badUrl(url)
  }
  const scheme = parsed.protocol.slice(0, -1)
  if (parsed.hostname === '' && scheme !== 'memory') throw badUrl(url)
  if (scheme === 'redis' || scheme === 'rediss')
    return { kind: 'redis', env: { ...env, REDIS_URL: url }, address: hidePassword(url) }
  if (scheme === 'nats' || scheme === 'tls')
    return { kind: 'nats', env: natsEnv(parsed, env), address: hidePassword(url) }
  if (scheme === 'kafka' || scheme === 'kafka+ssl')
    return { kind: 'kafka', env: kafkaEnv(parsed, env), address: hidePassword(url) }
  throw badUrl(url)
}

function badUrl(url: string): UsageError {
  return new UsageError(
    `--url "${hidePassword(url)}" is not a broker URL: use redis://host:6379, nats://host:4222, kafka://host:9092 or memory:`,
    { field: 'url' },
  )
}

// nats.js reads `user:pass@` in a server URL itself; NATS_USER/NATS_PASSWORD also work.
function natsEnv(parsed: URL, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, NATS_URL: parsed.toString() }
}

/** `kafka://[user:password@]host:port[,host:port]`: brokers, and SASL/PLAIN when a user is given. */
function kafkaEnv(parsed: URL, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const tls = parsed.protocol === 'kafka+ssl:'
  // `new URL` keeps only the first host of a list: read the authority from the text.
  const authority = parsed.href.replace(/^[^:]+:\/\//, '').replace(/[/?#].*$/, '')
  const hosts = authority.slice(authority.lastIndexOf('@') + 1)
  const out: NodeJS.ProcessEnv = { ...env, KAFKA_BOOTSTRAP_SERVERS: hosts }
  delete out.KAFKA_BROKERS
  if (parsed.username !== '') {
    out.KAFKA_SASL_USERNAME = decodeURIComponent(parsed.username)
    out.KAFKA_SASL_PASSWORD = decodeURIComponent(parsed.password)
    out.KAFKA_SASL_MECHANISM ??= 'plain'
    out.KAFKA_SECURITY_PROTOCOL = tls ? 'sasl_ssl' : 'sasl_plaintext'
  } else if (tls) {
    out.KAFKA_SECURITY_PROTOCOL = 'ssl'
  }
  return out
}

type Adapter = { fromEnv(env: NodeJS.ProcessEnv): unknown } & Record<string, unknown>

/**
 * The target's transport, from its adapter's `fromEnv()`. The adapters other than memory are
 * optional peer dependencies, loaded only when chosen.
 */
export async function openTransport(target: Target): Promise<Transport> {
  if (target.kind === 'memory') {
    const { memoryTransport } = await import('@switchyard/adapter-memory')
    return memoryTransport()
  }
  const name = `@switchyard/adapter-${target.kind}`
  let adapter: Adapter
  try {
    adapter = (await import(name)) as Adapter
  } catch {
    throw new UsageError(
      `The ${target.kind} transport needs ${name} and its client: npm install ${name}`,
      { field: 'url' },
    )
  }
  const factory = adapter[`${target.kind}Transport`] as (options: unknown) => Transport
  return factory(adapter.fromEnv(target.env))
}

/** A bus over the target for one command; transport logs go nowhere unless `verbose`. */
export async function openBus(target: Target, verbose: boolean): Promise<EventBus> {
  const logger: Logger = verbose ? consoleLogger('debug') : silentLogger
  const transport = await openTransport(target)
  return createEventBus({ transport, source: 'switchyard-cli', logger })
}
