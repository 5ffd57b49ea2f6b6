import { ConfigurationError, type EventEnvelope, type EventInput } from '@switchyard/core'
import { envReader } from '@switchyard/core/transport'
import type { Queryable } from './driver.js'
import { enqueue } from './enqueue.js'

/** The publishing half of `EventBus`: what a service calls, whether events go out now or later. */
export interface EventPublisher {
  /** Publishes (or stores for publishing) one event; resolves with the complete envelope. */
  publish<T>(topic: string, input: EventInput<T>): Promise<EventEnvelope<T>>
  /** Publishes (or stores) events in order, as one batch. */
  publishBatch<T>(topic: string, inputs: readonly EventInput<T>[]): Promise<EventEnvelope<T>[]>
}

/** Options of `createOutboxPublisher`. */
export interface OutboxPublisherOptions {
  /** Default `source` of events, usually the service name. */
  source?: string
  /** The outbox table. @default 'outbox' */
  table?: string
}

/**
 * A publisher with the bus's `publish`/`publishBatch` shape that writes to the outbox on the
 * given transaction client instead of sending: create one per transaction.
 * @example
 * await db.transaction(async (tx) => {
 *   const events = createOutboxPublisher(tx, { source: 'hr' })
 *   await tx.query('UPDATE employees SET name = $2 WHERE id = $1', ['e1', 'Ada'])
 *   await events.publish('employees', { type: 'employee.renamed', data: { id: 'e1' } })
 * })
 */
export function createOutboxPublisher(
  tx: Queryable,
  options: OutboxPublisherOptions = {},
): EventPublisher {
  return {
    publish: async (topic, input) => (await enqueue(tx, topic, input, options))[0]!,
    publishBatch: (topic, inputs) => {
      if (!Array.isArray(inputs)) {
        throw new ConfigurationError('publishBatch needs an array of events', { field: 'events' })
      }
      return enqueue(tx, topic, inputs, options)
    },
  }
}

/** Options of `getEventPublisher`. */
export interface GetEventPublisherOptions {
  /** The bus used when the outbox is off or no session is given. */
  bus: EventPublisher & { readonly source?: string | undefined }
  /** The transaction client of the current unit of work (Marty's `database_session`). */
  session?: Queryable | undefined
  /** Route through the outbox when a session is given. @default outboxFromEnv().enabled */
  useOutbox?: boolean
  /** The outbox table. @default 'outbox' */
  table?: string
}

/**
 * One line to switch a service between direct publishing and the outbox, like Marty's
 * `get_event_publisher(database_session=...)`: with a session and the outbox enabled, events are
 * stored in that session's transaction; otherwise they go straight to the bus.
 * @example
 * const events = getEventPublisher({ bus, session: tx })   // USE_OUTBOX_PATTERN=true → outbox
 * await events.publish('audit', { type: 'user.login', data: { user: 'u1' } })
 */
export function getEventPublisher(options: GetEventPublisherOptions): EventPublisher {
  const useOutbox = options.useOutbox ?? outboxFromEnv().enabled
  if (!useOutbox || options.session === undefined) return options.bus
  const source = options.bus.source
  return createOutboxPublisher(options.session, {
    ...(source === undefined ? {} : { source }),
    ...(options.table === undefined ? {} : { table: options.table }),
  })
}

/** Outbox settings read from the environment. */
export interface OutboxEnv {
  /** `USE_OUTBOX_PATTERN` is `true`, `1`, `yes` or `on` (core's boolean parser; other values throw). */
  enabled: boolean
  /** `SWITCHYARD_POSTGRES_URL`, else `DATABASE_URL`. */
  connectionString: string | undefined
}

/**
 * Reads `USE_OUTBOX_PATTERN` (Marty's switch) and the database URL.
 * @throws {ConfigurationError} naming `USE_OUTBOX_PATTERN` when it is not a boolean.
 * @example const { enabled, connectionString } = outboxFromEnv()
 */
export function outboxFromEnv(env: Record<string, string | undefined> = process.env): OutboxEnv {
  return {
    enabled: envReader(env).bool('USE_OUTBOX_PATTERN') ?? false,
    connectionString: env.SWITCHYARD_POSTGRES_URL ?? env.DATABASE_URL,
  }
}
