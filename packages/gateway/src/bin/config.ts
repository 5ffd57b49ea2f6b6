import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { join, resolve } from 'node:path'
import { ConfigurationError } from '@switchyard/core'
import { envReader } from '@switchyard/core/transport'
import { checkNetworks } from '../subscriptions/ssrf.js'

/** The bin's configuration, from APG's and Anumate's environment variables. */
export interface BinConfig {
  /** `API_HOST`. @default '127.0.0.1' */
  host: string
  /** `API_PORT`. @default 8080 */
  port: number
  /** `JWT_SECRET_KEY`, or the generated one. */
  secret: string | undefined
  /** True when the secret was generated (no `JWT_SECRET_KEY`, no `JWT_JWKS_URL`). */
  generatedSecret: boolean
  /** `JWT_ALGORITHM`. @default 'HS256' */
  algorithm: string
  /** `JWT_JWKS_URL`. */
  jwksUrl: string | undefined
  /** `JWT_EXPIRATION_HOURS`: lifetime of tokens the bin mints. @default 24 */
  expirationHours: number
  /** `JWT_TENANT_CLAIM`. @default 'tenant_id' */
  tenantClaim: string
  /** `METRICS_ENABLED`. @default false */
  metrics: boolean
  /** `TRACING_ENABLED`: spans through the globally registered OpenTelemetry SDK. @default false */
  tracing: boolean
  /** `LOG_LEVEL`. @default 'info' */
  logLevel: string
  /** `DATABASE_URL`: PostgreSQL; PGlite under `dataDir` when unset. */
  databaseUrl: string | undefined
  /** `SWITCHYARD_DATA_DIR`: PGlite files and the generated secret. @default '.switchyard-gateway' */
  dataDir: string
  /** `SWITCHYARD_TRANSPORT`, else the first of `KAFKA_BOOTSTRAP_SERVERS` (or `KAFKA_BROKERS`), `REDIS_URL`, `NATS_URL`. */
  transport: 'memory' | 'redis' | 'nats' | 'kafka'
  /** `RATE_LIMIT_PER_SECOND` and `RATE_LIMIT_BURST`; 0 turns limiting off. @default 1000 / 2000 */
  rateLimit: { ratePerSecond: number; burst: number } | false
  /** `MAX_REQUEST_BYTES`. @default 1048576 */
  bodyLimit: number
  /** `STREAMS_FILE`: streams created at start when missing (JSON). */
  streamsFile: string | undefined
  /**
   * `WEBHOOK_ALLOW_NETWORKS`: CIDR ranges or addresses, separated by commas or spaces, that
   * webhooks may reach although the SSRF guard refuses them by default (`webhooks.allowNetworks`).
   * @default []
   */
  webhookAllowNetworks: string[]
}

type Env = Record<string, string | undefined>

function number(env: Env, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0)
    throw new ConfigurationError(`${name} must be a number ≥ 0, got "${raw}"`, { field: name })
  return value
}

/** core's one boolean parser: `true/1/yes/on`, `false/0/no/off`; anything else names the variable. */
function flag(env: Env, name: string): boolean {
  return envReader(env).bool(name) ?? false
}

function transportOf(env: Env): BinConfig['transport'] {
  const chosen = env.SWITCHYARD_TRANSPORT?.toLowerCase()
  if (chosen !== undefined && chosen !== '') {
    if (chosen === 'memory' || chosen === 'redis' || chosen === 'nats' || chosen === 'kafka') {
      return chosen
    }
    throw new ConfigurationError(
      `SWITCHYARD_TRANSPORT must be memory, redis, nats or kafka, got "${chosen}"`,
      { field: 'SWITCHYARD_TRANSPORT' },
    )
  }
  // Marty's KAFKA_BROKERS is the same setting as KAFKA_BOOTSTRAP_SERVERS (the adapter reads both).
  if (env.KAFKA_BOOTSTRAP_SERVERS || env.KAFKA_BROKERS) return 'kafka'
  if (env.REDIS_URL) return 'redis'
  if (env.NATS_URL) return 'nats'
  return 'memory'
}

function networks(env: Env, name: string): string[] {
  const entries = (env[name] ?? '').split(/[\s,]+/).filter((entry) => entry !== '')
  checkNetworks(entries, name)
  return entries
}

/** True for 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return host === '::1'
}

/**
 * Reads the configuration. Without `JWT_SECRET_KEY` or `JWT_JWKS_URL` a secret is generated once
 * and kept in `<dataDir>/jwt-secret` (mode 0600), so `switchyard-gateway token` signs with it.
 * @throws {ConfigurationError} naming the variable: an invalid value, or a non-loopback `API_HOST`
 * without a configured key.
 */
export async function readConfig(env: Env = process.env): Promise<BinConfig> {
  const host = env.API_HOST || '127.0.0.1'
  const dataDir = resolve(env.SWITCHYARD_DATA_DIR || '.switchyard-gateway')
  const jwksUrl = env.JWT_JWKS_URL || undefined
  let secret = env.JWT_SECRET_KEY || undefined
  const generatedSecret = secret === undefined && jwksUrl === undefined
  if (generatedSecret && !isLoopback(host)) {
    throw new ConfigurationError(
      `Refusing to listen on ${host} without JWT_SECRET_KEY or JWT_JWKS_URL: a generated secret is for a local gateway only (API_HOST=127.0.0.1)`,
      { field: 'API_HOST' },
    )
  }
  if (generatedSecret) secret = await generated(dataDir)
  const rate = number(env, 'RATE_LIMIT_PER_SECOND', 1000)
  return {
    host,
    port: number(env, 'API_PORT', 8080),
    secret,
    generatedSecret,
    algorithm: env.JWT_ALGORITHM || (jwksUrl === undefined ? 'HS256' : 'RS256'),
    jwksUrl,
    expirationHours: number(env, 'JWT_EXPIRATION_HOURS', 24),
    tenantClaim: env.JWT_TENANT_CLAIM || 'tenant_id',
    metrics: flag(env, 'METRICS_ENABLED'),
    tracing: flag(env, 'TRACING_ENABLED'),
    logLevel: env.LOG_LEVEL?.toLowerCase() || 'info',
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir,
    transport: transportOf(env),
    rateLimit:
      rate === 0
        ? false
        : { ratePerSecond: rate, burst: number(env, 'RATE_LIMIT_BURST', rate * 2) },
    bodyLimit: number(env, 'MAX_REQUEST_BYTES', 1_048_576),
    streamsFile: env.STREAMS_FILE || undefined,
    webhookAllowNetworks: networks(env, 'WEBHOOK_ALLOW_NETWORKS'),
  }
}

async function generated(dataDir: string): Promise<string> {
  const file = join(dataDir, 'jwt-secret')
  try {
    const existing = (await readFile(file, 'utf8')).trim()
    if (existing.length >= 32) return existing
  } catch {}
  await mkdir(dataDir, { recursive: true })
  const secret = randomBytes(32).toString('base64url')
  await writeFile(file, `${secret}\n`, { mode: 0o600 })
  return secret
}
