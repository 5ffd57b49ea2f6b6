import { loudHooks, resolveLogger } from './bus-log.js'
import type { Codec } from './codec.js'
import type { DeadLetterEntry } from './dead-letter-entry.js'
import { ConfigurationError, toError } from './errors.js'
import type { Logger } from './logger.js'
import type { HandleContext, Middleware } from './middleware.js'
import { checkKeys, checkNumber, checkString } from './options.js'
import type { PublishRetryOptions } from './publish-retry.js'
import type { SubscribeOptions } from './subscribe-options.js'
import type { Transport, TransportHealth } from './transport.js'

/** Observation hooks of the bus. */
export interface BusHooks {
  /** A handling attempt failed and will be retried after `delayMs`. */
  onRetry?(info: { ctx: HandleContext; error: Error | undefined; delayMs: number }): void
  /** An event was dead-lettered (or dropped, when dead-lettering is off). */
  onDeadLetter?(entry: DeadLetterEntry): void
  /** An event was handled successfully. */
  onHandled?(ctx: HandleContext): void
  /** Something failed outside a handler (acks, dead-letter publishes, the pull loop). */
  onError?(error: Error, where: string): void
}

/** Options of `createEventBus`. */
export interface EventBusOptions {
  /** The transport adapter (`memoryTransport()`, `redisTransport()`, ...). */
  transport: Transport
  /** Default `source` of published events, usually the service name. */
  source?: string
  /** Wire format. @default 'binary' (CloudEvents binary content mode) */
  codec?: 'binary' | 'structured' | Codec
  /** Middleware around publish and handle, outermost first. */
  middleware?: readonly Middleware[]
  /** Suffix of default dead-letter topics. @default '.dlq' */
  deadLetterSuffix?: string
  /** Upper bound for `close()` to drain handlers. @default 10_000 */
  closeTimeoutMs?: number
  /**
   * Observation hooks; errors they throw are ignored. A dead letter or an error that no hook
   * handles is logged instead (`warn`, or `error` when not retryable).
   */
  hooks?: BusHooks
  /**
   * Where the bus and its transport log (pino-compatible: `debug/info/warn/error(fields, msg)`).
   * The transport gets it through `Transport.attach` unless it was given a logger of its own.
   * @default consoleLogger('warn')
   */
  logger?: Logger
  /**
   * Retries of a publish the transport failed with a retryable error (a lost connection, a
   * timeout); `false` turns them off. Each retry is reported to `hooks.onError`.
   * @default { maxAttempts: 3, backoff: exponential({ baseMs: 100, maxMs: 2_000 }) }
   */
  publishRetry?: PublishRetryOptions | false
}

/** Health of the bus and its transport. */
export interface BusHealth {
  /** `up` when open and the transport answers. */
  status: 'up' | 'down'
  /** The transport's own report. */
  transport: TransportHealth & { name: string }
  /** Open subscriptions. */
  subscriptions: number
}

/** The options `createEventBus` knows; any other key is refused. */
export const BUS_OPTION_KEYS = [
  'transport',
  'source',
  'codec',
  'middleware',
  'deadLetterSuffix',
  'closeTimeoutMs',
  'hooks',
  'publishRetry',
  'logger',
]

/** The inbox of `bus.request`: private to this bus, one handler, no dead letters. */
export const INBOX_OPTIONS = (topic: string): SubscribeOptions => ({
  group: topic,
  startAt: 'latest',
  concurrency: 16,
  retry: { maxAttempts: 1 },
  deadLetter: false,
})

/** The bus's health: its transport's probe (never throwing), and down once the bus closes. */
export async function probeHealth(
  transport: Transport,
  open: boolean,
  subscriptions: number,
): Promise<BusHealth> {
  let probe: TransportHealth
  try {
    probe = await transport.health()
  } catch (error) {
    probe = { status: 'down', detail: (error as Error).message }
  }
  const status = open && probe.status === 'up' ? 'up' : 'down'
  return { status, transport: { ...probe, name: transport.name }, subscriptions }
}

/**
 * Checks the option keys, the transport and the logger, and attaches the transport to the bus's
 * logger. @throws {ConfigurationError} naming the problem.
 */
export function checkBusOptions(options: EventBusOptions): {
  transport: Transport
  logger: Logger
  hooks: BusHooks
  source: string | undefined
  closeTimeoutMs: number
} {
  checkKeys(options, BUS_OPTION_KEYS, 'createEventBus')
  const transport = options?.transport
  if (transport === undefined || typeof transport.publish !== 'function') {
    throw new ConfigurationError('createEventBus needs a transport, e.g. memoryTransport()', {
      field: 'transport',
    })
  }
  const logger = resolveLogger(options.logger)
  transport.attach?.({ logger })
  const source = options.source === undefined ? undefined : checkString(options.source, 'source')
  const closeTimeoutMs = checkNumber(options.closeTimeoutMs ?? 10_000, 'closeTimeoutMs', { min: 0 })
  return {
    transport,
    logger,
    hooks: loudHooks(options.hooks ?? {}, logger),
    source,
    closeTimeoutMs,
  }
}

/** Reports an error to the `onError` hook; a hook that throws must not break publishing. */
export function reportTo(hooks: BusHooks): (error: unknown, where: string) => void {
  return (error, where) => {
    try {
      hooks.onError?.(toError(error), where)
    } catch {
      // Hooks observe only.
    }
  }
}
