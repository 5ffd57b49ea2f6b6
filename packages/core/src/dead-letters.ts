import type { Codec } from './codec.js'
import {
  DEAD_LETTER_TYPE,
  type DeadLetterRecord,
  originalMessage,
  readDeadLetter,
} from './dead-letter-entry.js'
import type { EventEnvelope } from './envelope.js'
import { ConfigurationError } from './errors.js'
import { checkKeys, checkTopic } from './options.js'
import type { SubscribeOptions } from './subscribe-options.js'
import type { Subscription } from './subscription.js'
import type { OutboundMessage, Transport } from './transport.js'

/** Options of `deadLetters.replay`. */
export interface ReplayOptions {
  /** Replay only entries this returns true for; the others stay and are offered to a later replay after a minute. */
  filter?: (entry: DeadLetterRecord) => boolean
  /** Stop after this many replayed entries. */
  limit?: number
  /** Stop when nothing arrived for this long after the last entry. @default 500 */
  idleMs?: number
  /** Stop when no entry arrived at all within this long. @default 5_000 */
  waitMs?: number
}

/** What listing and replaying dead letters needs from the bus. */
export interface DeadLetterBus {
  readonly transport: Transport
  readonly codec: Codec
  connect(): Promise<void>
  subscribe(
    topic: string,
    handler: (event: EventEnvelope) => unknown,
    options: SubscribeOptions,
  ): Promise<Subscription>
  send(topic: string, messages: OutboundMessage[]): Promise<void>
}

/** What a dead-letter consumer can do with the entry it is handed. */
export interface DeadLetterActions {
  /** Sends the original message back to its topic, byte for byte, under a new message id. */
  replay(): Promise<void>
}

/**
 * Handles one dead-letter entry (DotMac's `create_dlq_consumer`): return to settle it (it is
 * then discarded for this group), call `replay()` first to route it back, throw to retry.
 */
export type DeadLetterHandler = (entry: DeadLetterRecord, actions: DeadLetterActions) => unknown

/** `bus.deadLetters`: listing, replay and dead-letter consumers. */
export interface DeadLetterApi {
  /**
   * Consumes a dead-letter topic with parsed entries (original topic, group, error, attempts,
   * original event). Messages that are not dead-letter entries are skipped. A new group starts
   * at the earliest entry kept. @default options `{ group: 'dead-letters', startAt: 'earliest' }`
   */
  subscribe(
    topic: string,
    handler: DeadLetterHandler,
    options?: SubscribeOptions,
  ): Promise<Subscription>
  /** Reads up to `limit` (default 100) entries of a dead-letter topic without consuming them. */
  list(topic: string, options?: { limit?: number }): Promise<DeadLetterRecord[]>
  /** Sends entries of a dead-letter topic back to their original topics; resolves with the count. */
  replay(topic: string, options?: ReplayOptions): Promise<number>
}

/** The `bus.deadLetters` of a bus. */
export function deadLetterApi(bus: DeadLetterBus): DeadLetterApi {
  return {
    list: (topic, options) => listDeadLetters(bus, topic, options?.limit ?? 100),
    subscribe: (topic, handler, options) =>
      bus.subscribe(
        topic,
        async (event) => {
          if (event.type !== DEAD_LETTER_TYPE) return
          const entry = readDeadLetter(event)
          await handler(entry, {
            replay: () => bus.send(entry.topic, [originalMessage(entry)]),
          })
        },
        { group: 'dead-letters', startAt: 'earliest', ...options },
      ),
    replay: (topic, options) => replayDeadLetters(bus, topic, options ?? {}),
  }
}

/** Reads up to `limit` entries of a dead-letter topic without consuming them. */
async function listDeadLetters(
  bus: DeadLetterBus,
  topic: string,
  limit: number,
): Promise<DeadLetterRecord[]> {
  checkTopic(topic)
  const { transport, codec } = bus
  if (transport.browse === undefined) {
    throw new ConfigurationError(`The ${transport.name} transport cannot list messages`, {
      field: 'transport',
    })
  }
  await bus.connect()
  const messages = await transport.browse(topic, { limit })
  return messages.map((m) => readDeadLetter(m.event ?? codec.decode(m)))
}

const LATER = { kind: 'retry', delayMs: 60_000, error: undefined } as const

/**
 * Sends entries of a dead-letter topic back to their original topics through a consumer group
 * of its own (`<topic>.replay`), so a second replay starts after the first; resolves with the
 * count. Entries left out (filter, limit) are handed back for a later replay.
 */
async function replayDeadLetters(
  bus: DeadLetterBus,
  topic: string,
  options: ReplayOptions,
): Promise<number> {
  checkKeys(options, ['filter', 'limit', 'idleMs', 'waitMs'], 'replay')
  const limit = options.limit ?? Number.POSITIVE_INFINITY
  const idleMs = options.idleMs ?? 500
  const waitMs = options.waitMs ?? 5_000
  let replayed = 0
  let idleTimer: NodeJS.Timeout | undefined
  let finish!: () => void
  const done = new Promise<void>((resolve) => {
    finish = resolve
  })
  const armIdle = (ms = idleMs) => {
    clearTimeout(idleTimer)
    idleTimer = setTimeout(finish, ms)
  }
  const subscription = await bus.subscribe(
    topic,
    async (event) => {
      if (replayed >= limit) return LATER
      armIdle()
      if (event.type !== DEAD_LETTER_TYPE) return
      const entry = readDeadLetter(event)
      if (options.filter !== undefined && !options.filter(entry)) return LATER
      await bus.send(entry.topic, [originalMessage(entry)])
      if (++replayed >= limit) finish()
    },
    {
      group: `${topic}.replay`,
      startAt: 'earliest',
      retry: { maxAttempts: 1_000, inProcessMaxDelayMs: 0 },
    },
  )
  // Brokers may take a while to assign a new group (Kafka rebalances): wait longer for the first.
  armIdle(waitMs)
  await done
  clearTimeout(idleTimer)
  await subscription.close()
  return replayed
}
