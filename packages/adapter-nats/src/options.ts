import { readFileSync } from 'node:fs'
import {
  type Authenticator,
  type ConnectionOptions,
  credsAuthenticator,
  type NatsConnection,
  nkeyAuthenticator,
  type TlsOptions,
} from '@nats-io/transport-node'
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

/** Retention limits of a JetStream stream. */
export interface StreamLimits {
  /** Most messages kept (Anumate's `MAX_MSGS`); -1 for no limit. @default -1 */
  maxMsgs?: number
  /** Most bytes kept (Anumate's `MAX_BYTES`); -1 for no limit. @default -1 */
  maxBytes?: number
  /**
   * Oldest message kept, in ms (Anumate's `MAX_AGE`, which is in seconds); 0 keeps forever.
   * @default 0
   */
  maxAgeMs?: number
  /** Largest message the stream accepts; -1 leaves it to the server's `max_payload`. @default -1 */
  maxMsgSize?: number
  /** Where messages live. @default 'file' */
  storage?: 'file' | 'memory'
  /** Copies kept in a cluster. @default 1 */
  replicas?: number
  /** How long `Nats-Msg-Id` (the event id) de-duplicates a re-sent publish. @default 120_000 */
  duplicateWindowMs?: number
  /**
   * What a stream full at `maxMsgs` or `maxBytes` does: `'new'` refuses the publish (a
   * `PublishError`), `'old'` drops the oldest message even when a group has not read it yet or a
   * retry of it is waiting; the transport then reports what was dropped (`MessagesLostError`
   * through the bus's `onError`). Ask for `'old'` only where losing events is acceptable.
   * @default 'new'
   */
  discard?: 'old' | 'new'
}

/** A stream the transport creates or updates on connect (Anumate's `STREAM_NAME`). */
export interface StreamDefinition extends StreamLimits {
  /** Stream name: letters, digits, `-` and `_`. */
  name: string
  /** Subjects it covers, wildcards allowed. Omit to use a stream that already exists as it is. */
  subjects?: readonly string[]
}

/** Connection settings, shared with `fromEnv()`. */
export interface NatsConfig {
  /** Server URLs, or one comma-separated string (`NATS_URL`). @default 'nats://127.0.0.1:4222' */
  servers?: string | readonly string[]
  /** Connection name shown by the server's monitoring. @default 'switchyard' */
  name?: string
  /** Token authentication. */
  token?: string
  /** User for user/password authentication. */
  user?: string
  /** Password for user/password authentication. */
  pass?: string
  /** NKey seed (`SU...`) for nkey authentication. */
  nkeySeed?: string
  /** Path of a `.creds` file (JWT + seed), as issued by `nsc`. */
  credsFile?: string
  /** TLS settings (CA, client certificate and key). */
  tls?: TlsOptions
  /** JetStream domain, when the account uses one. */
  domain?: string
  /** Pause between reconnect attempts. @default 250 */
  reconnectTimeWaitMs?: number
  /** Reconnect attempts before giving up; -1 retries forever. @default -1 */
  maxReconnectAttempts?: number
  /** Time allowed for the first connection. @default 5_000 */
  connectTimeoutMs?: number
  /**
   * Where the transport logs (pino-compatible): a lost connection (`warn`) and its return
   * (`info`). @default the bus's logger, or `consoleLogger('warn')` outside a bus
   */
  logger?: Logger
}

/** Options of `natsTransport`. */
export interface NatsTransportOptions extends NatsConfig {
  /** Bring your own connection; it is left open when the transport closes. */
  client?: NatsConnection
  /** Streams to create or update on connect; topics they cover are stored there. */
  streams?: readonly StreamDefinition[]
  /**
   * A topic no stream covers gets its own stream, named `prefix` + the topic, with these limits;
   * `false` makes such a topic an error instead. @default { prefix: 'SY_' }
   */
  autoStreams?: (StreamLimits & { prefix?: string }) | false
  /** Topic aliases: a bus topic read from other subjects, e.g. `{ 'orders.all': 'orders.>' }`. */
  subjects?: Readonly<Record<string, string | readonly string[]>>
  /**
   * Time a delivered message may stay unacknowledged before redelivery; long handlers are kept
   * alive with in-progress acks. @default 30_000
   */
  ackWaitMs?: number
  /**
   * Server-side cap on deliveries per message (Anumate's `MAX_DELIVER_ATTEMPTS`); -1 leaves it
   * to the bus's retry policy. @default -1
   */
  maxDeliver?: number
  /**
   * Subscription settings the bus applies to every subscription on this transport, under the
   * options `subscribe` is given; `fromEnv()` sets them with core's `subscribeDefaultsFromEnv`,
   * and `retry.maxAttempts` from `MAX_DELIVER_ATTEMPTS`, so the bus's budget and the server's
   * cap agree.
   */
  subscribeDefaults?: Transport['subscribeDefaults']
  /** Unacknowledged messages a group may have at once. @default 10_000 */
  maxAckPending?: number
  /** How long one pull request waits at the server before it is renewed. @default 5_000 */
  pullExpiresMs?: number
  /** Publishes awaiting their JetStream ack at once, per transport. @default 256 */
  publishWindow?: number
  /**
   * How long one publish waits for its JetStream ack; then it fails with a retryable
   * `TimeoutError` and the bus's `publishRetry` sends it again (same `Nats-Msg-Id`).
   * @default 5_000
   */
  ackTimeoutMs?: number
}

const KEYS = `client servers name token user pass nkeySeed credsFile tls domain reconnectTimeWaitMs
  maxReconnectAttempts connectTimeoutMs streams autoStreams subjects ackWaitMs maxDeliver
  subscribeDefaults maxAckPending pullExpiresMs publishWindow ackTimeoutMs logger`.split(/\s+/)
const LIMIT_KEYS = 'maxMsgs maxBytes maxAgeMs maxMsgSize storage replicas duplicateWindowMs discard'
// Least value of each numeric limit: -1 is "no limit" where NATS has one.
const LIMIT_MINS = {
  maxMsgs: -1,
  maxBytes: -1,
  maxMsgSize: -1,
  maxAgeMs: 0,
  duplicateWindowMs: 0,
  replicas: 1,
}
const NAME = /^[A-Za-z0-9_-]*$/
const SCHEME = /^(nats|tls):\/\//iu

/** Options with defaults applied, and the nats.js connection options they make. */
export type ResolvedNatsOptions = ReturnType<typeof resolveOptions>

/** Validates options and applies defaults. @throws {ConfigurationError} naming the field. */
export function resolveOptions(options: NatsTransportOptions) {
  const p = 'natsTransport'
  checkKeys(options, KEYS, p)
  for (const [i, stream] of (options.streams ?? []).entries()) {
    const path = `${p}.streams[${i}]`
    checkLimits(stream, path, ['name', 'subjects'])
    if (typeof stream.name !== 'string' || !stream.name || !NAME.test(stream.name)) {
      refuse(`${path}.name`, 'must be letters, digits, - or _')
    }
    if (
      stream.subjects !== undefined &&
      !(Array.isArray(stream.subjects) && stream.subjects.length)
    ) {
      refuse(`${path}.subjects`, 'must be a non-empty array of subjects')
    }
  }
  const auto = options.autoStreams ?? {}
  if (auto !== false) checkLimits(auto, `${p}.autoStreams`, ['prefix'])
  const prefix = auto === false ? '' : (auto.prefix ?? 'SY_')
  if (!NAME.test(prefix)) refuse(`${p}.autoStreams.prefix`, 'may use only letters, digits, - and _')
  const domain =
    options.domain === undefined ? undefined : checkString(options.domain, `${p}.domain`)
  const servers = (
    typeof options.servers === 'string'
      ? options.servers.split(',')
      : [...(options.servers ?? ['nats://127.0.0.1:4222'])]
  ).map((s) => String(s).trim())
  if (servers.length === 0 || servers.some((s) => !s))
    refuse(`${p}.servers`, 'must list at least one server URL')
  // nats.js would take http://host:4222 as a host named "http" and fail at connect, if at all.
  const foreign = servers.find((s) => /^[a-z][a-z0-9+.-]*:\/\//iu.test(s) && !SCHEME.test(s))
  if (foreign !== undefined)
    refuse(`${p}.servers`, `must be nats:// or tls:// URLs (or host:port), got ${foreign}`)
  const o = options
  const authenticator: Authenticator[] = []
  if (o.nkeySeed !== undefined)
    authenticator.push(nkeyAuthenticator(new TextEncoder().encode(o.nkeySeed)))
  if (o.credsFile !== undefined)
    authenticator.push(
      credsAuthenticator(new TextEncoder().encode(readCreds(o.credsFile, `${p}.credsFile`))),
    )
  const connection: ConnectionOptions = {
    servers,
    name: o.name === undefined ? 'switchyard' : checkString(o.name, `${p}.name`),
    maxReconnectAttempts: int(o.maxReconnectAttempts ?? -1, `${p}.maxReconnectAttempts`, -1),
    reconnectTimeWait: int(o.reconnectTimeWaitMs ?? 250, `${p}.reconnectTimeWaitMs`, 0),
    timeout: int(o.connectTimeoutMs ?? 5_000, `${p}.connectTimeoutMs`, 1),
    // nats.js otherwise builds an Error (with a stack) for every request, in case it fails:
    // a third of the CPU of an acked publish. Our errors say where they came from anyway.
    noAsyncTraces: true,
    ...(o.token !== undefined && { token: o.token }),
    ...(o.user !== undefined && { user: o.user }),
    ...(o.pass !== undefined && { pass: o.pass }),
    ...(o.tls !== undefined && { tls: o.tls }),
    ...(authenticator.length > 0 && { authenticator }),
  }
  return {
    connection,
    servers,
    domain,
    streams: options.streams ?? [],
    autoStreams: auto === false ? (false as const) : { ...auto, prefix },
    subjects: options.subjects ?? {},
    ackWaitMs: int(options.ackWaitMs ?? 30_000, `${p}.ackWaitMs`, 100),
    maxDeliver: int(options.maxDeliver ?? -1, `${p}.maxDeliver`, -1),
    maxAckPending: int(options.maxAckPending ?? 10_000, `${p}.maxAckPending`, 1),
    pullExpiresMs: int(options.pullExpiresMs ?? 5_000, `${p}.pullExpiresMs`, 1_000),
    publishWindow: int(options.publishWindow ?? 256, `${p}.publishWindow`, 1),
    ackTimeoutMs: int(options.ackTimeoutMs ?? 5_000, `${p}.ackTimeoutMs`, 100),
    apiPrefix: domain === undefined ? '$JS.API' : `$JS.${domain}.API`,
    logger: checkLogger(options.logger, `${p}.logger`),
  }
}

function checkLimits(limits: StreamLimits, path: string, more: string[]): void {
  checkKeys(limits, [...LIMIT_KEYS.split(' '), ...more], path)
  for (const [key, min] of Object.entries(LIMIT_MINS)) {
    const value = limits[key as keyof typeof LIMIT_MINS]
    if (value !== undefined) int(value, `${path}.${key}`, min)
  }
  if (limits.storage !== undefined && !['file', 'memory'].includes(limits.storage)) {
    refuse(`${path}.storage`, 'must be "file" or "memory"')
  }
  if (limits.discard !== undefined && !['old', 'new'].includes(limits.discard)) {
    refuse(`${path}.discard`, 'must be "old" or "new"')
  }
}

function int(value: unknown, field: string, min: number): number {
  return checkNumber(value, field, { min, integer: true })
}

function refuse(field: string, problem: string): never {
  throw new ConfigurationError(`${field} ${problem}`, { field })
}

/**
 * Reads the conventional environment variables: `NATS_URL` (comma-separated), `NATS_TOKEN`,
 * `NATS_USER`/`NATS_PASSWORD`, `NATS_CREDS` (file), `NATS_NKEY` (seed file), `NATS_CA`/`NATS_CERT`/
 * `NATS_KEY` (TLS files), Anumate's `STREAM_NAME` (+ `STREAM_SUBJECTS`), `MAX_MSGS`,
 * `MAX_BYTES`, `MAX_AGE` (seconds), `DEAD_LETTER_STREAM` (+ `DEAD_LETTER_SUBJECTS`) and
 * `MAX_DELIVER_ATTEMPTS`, and the bus's subscription defaults (core's `subscribeDefaultsFromEnv`).
 * A stream named without its subjects covers `<first word of its name, lower case>.*`
 * (`ANUMATE_EVENTS` → `anumate.*`, the two-token topics of Anumate's catalog), and the dead-letter
 * stream the same subjects plus the dead-letter suffix (`anumate.*.dlq`). `NATS_CLUSTER_ID` is
 * refused: it names a NATS Streaming (STAN) cluster and has no meaning on JetStream.
 * @throws {ConfigurationError} naming the variable: a malformed number, an unreadable file,
 * `NATS_CLUSTER_ID`, or subjects that cannot be derived.
 * @example
 * const transport = natsTransport(fromEnv())
 */
export function fromEnv(env: Env = process.env): NatsTransportOptions {
  const read = envReader(env)
  const out: NatsTransportOptions = {}
  const set = <K extends keyof NatsTransportOptions>(key: K, value: NatsTransportOptions[K]) => {
    if (value !== undefined) out[key] = value
  }
  if (read.string('NATS_CLUSTER_ID') !== undefined) {
    throw new ConfigurationError(
      'NATS_CLUSTER_ID is a NATS Streaming (STAN) setting: JetStream, which this transport uses, has no cluster id (a JetStream domain, NATS_JS_DOMAIN, is a different thing). Remove NATS_CLUSTER_ID; NATS_URL names the servers',
      { field: 'NATS_CLUSTER_ID' },
    )
  }
  set('servers', read.string('NATS_URL'))
  set('token', read.string('NATS_TOKEN'))
  set('user', read.string('NATS_USER'))
  set('pass', read.string('NATS_PASSWORD'))
  set('domain', read.string('NATS_JS_DOMAIN'))
  const creds = read.string('NATS_CREDS')
  // Checked here too, so a bad file is reported under the variable that named it.
  if (creds !== undefined) readCreds(creds, 'NATS_CREDS')
  set('credsFile', creds)
  const nkey = read.string('NATS_NKEY')
  if (nkey !== undefined) out.nkeySeed = readText(nkey, 'NATS_NKEY').trim()
  const [caFile, certFile, keyFile] = ['NATS_CA', 'NATS_CERT', 'NATS_KEY'].map(read.string)
  if (caFile !== undefined || certFile !== undefined) {
    out.tls = {
      ...(caFile && { caFile }),
      ...(certFile && { certFile }),
      ...(keyFile && { keyFile }),
    }
  }
  // -1 is "no limit" in NATS, so these accept it beside whole numbers.
  const limit = (name: string) => (read.string(name) === '-1' ? -1 : read.int(name))
  const limits: StreamLimits = {}
  const [maxMsgs, maxBytes, maxAge] = ['MAX_MSGS', 'MAX_BYTES', 'MAX_AGE'].map(limit)
  if (maxMsgs !== undefined) limits.maxMsgs = maxMsgs
  if (maxBytes !== undefined) limits.maxBytes = maxBytes
  if (maxAge !== undefined) limits.maxAgeMs = maxAge * 1_000
  const split = (name: string) =>
    read
      .string(name)
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  const streams: StreamDefinition[] = []
  const name = read.string('STREAM_NAME')
  const given = split('STREAM_SUBJECTS')
  if (given !== undefined && name === undefined) refuse('STREAM_SUBJECTS', 'needs STREAM_NAME')
  const subjects =
    name === undefined ? undefined : (given ?? [`${firstWord(name, 'STREAM_NAME')}.*`])
  if (name !== undefined) streams.push({ name, ...limits, subjects: subjects ?? [] })
  if (streams.length === 0 && Object.keys(limits).length > 0) out.autoStreams = limits
  const dlqName = read.string('DEAD_LETTER_STREAM')
  const own = split('DEAD_LETTER_SUBJECTS')
  if (own !== undefined && dlqName === undefined)
    refuse('DEAD_LETTER_SUBJECTS', 'needs DEAD_LETTER_STREAM')
  if (dlqName !== undefined) {
    const base = subjects ?? [`${firstWord(dlqName, 'DEAD_LETTER_STREAM')}.*`]
    streams.push({ name: dlqName, subjects: own ?? deadLetterSubjects(base, read) })
  }
  if (streams.length > 0) out.streams = streams
  const defaults = subscribeDefaultsFromEnv(env) ?? {}
  const maxDeliver = read.int('MAX_DELIVER_ATTEMPTS')
  if (maxDeliver !== undefined) {
    out.maxDeliver = maxDeliver
    defaults.retry = { maxAttempts: maxDeliver, ...defaults.retry }
  }
  if (Object.keys(defaults).length > 0) out.subscribeDefaults = defaults
  return out
}

/** `ANUMATE_EVENTS` → `anumate`: the subject token a stream's name stands for. */
function firstWord(name: string, variable: string): string {
  const word = name.split(/[_-]/u)[0]?.toLowerCase() ?? ''
  if (!/^[a-z0-9]+$/u.test(word)) {
    refuse(variable, `"${name}" gives no subject to derive; set its subjects (comma-separated)`)
  }
  return word
}

/** The dead letters of topics under `subjects`: each subject plus the dead-letter suffix. */
function deadLetterSubjects(subjects: readonly string[], read: ReturnType<typeof envReader>) {
  const suffix = read.string('DLQ_TOPIC_SUFFIX') ?? '.dlq'
  const bad = subjects.find((s) => s.endsWith('>'))
  if (!/^(\.[A-Za-z0-9_-]+)+$/u.test(suffix) || bad !== undefined) {
    refuse(
      'DEAD_LETTER_SUBJECTS',
      `cannot be derived (${bad === undefined ? `DLQ_TOPIC_SUFFIX "${suffix}" adds no subject token` : `"${bad}" already covers the dead letters`}): set DEAD_LETTER_SUBJECTS`,
    )
  }
  return subjects.map((s) => `${s}${suffix}`)
}

/**
 * A `.creds` file's text, checked for the two blocks nats.js reads from it (the user JWT and the
 * NKEY seed), which it would otherwise find missing only at connect.
 * @throws {ConfigurationError} naming `name` for a file that cannot be read or holds no credentials.
 */
function readCreds(path: string, name: string): string {
  const text = readText(path, name)
  if (!/BEGIN NATS USER JWT/u.test(text) || !/BEGIN USER NKEY SEED/u.test(text)) {
    throw new ConfigurationError(
      `${name} points at ${path}, which is not a NATS credentials file (it needs the "BEGIN NATS USER JWT" and "BEGIN USER NKEY SEED" blocks nsc writes)`,
      { field: name },
    )
  }
  return text
}

function readText(path: string, name: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (cause) {
    throw new ConfigurationError(`${name} points at ${path}, which cannot be read`, {
      field: name,
      cause,
    })
  }
}
