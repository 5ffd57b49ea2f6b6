import {
  createEventBus,
  type EventBus,
  type EventBusOptions,
  type EventEnvelope,
  type Middleware,
} from '@switchyard/core'
import type { Transport } from '@switchyard/core/transport'
import { waitUntil } from './wait.js'

/** One publish the test bus saw. */
export interface PublishedRecord {
  /** Destination topic. */
  topic: string
  /** The complete envelope as sent. */
  event: EventEnvelope
}

/** A bus that records every event it publishes, for assertions in a service's unit tests. */
export interface TestBus extends EventBus {
  /** Everything published through this bus, in order. */
  readonly published: readonly PublishedRecord[]
  /** Published events of one topic (and type, if given). */
  publishedTo(topic: string, type?: string): EventEnvelope[]
  /** Forgets what was recorded. */
  clearPublished(): void
}

/**
 * Creates a bus that records what it publishes. Pass a transport — usually `memoryTransport()`
 * from `@switchyard/adapter-memory` — and any other bus options.
 * @example
 * const bus = createTestBus({ transport: memoryTransport(), source: 'hr' })
 * await service.hire(bus, 'ada')
 * expect(bus.publishedTo('employees', 'employee.created')).toHaveLength(1)
 */
export function createTestBus(options: EventBusOptions & { transport: Transport }): TestBus {
  const published: PublishedRecord[] = []
  const recorder: Middleware = {
    name: 'test-recorder',
    async publish(ctx, next) {
      await next()
      published.push({ topic: ctx.topic, event: ctx.event })
    },
  }
  const bus = createEventBus({ ...options, middleware: [...(options.middleware ?? []), recorder] })
  return Object.assign(bus, {
    published,
    publishedTo(topic: string, type?: string) {
      return published
        .filter((r) => r.topic === topic && (type === undefined || r.event.type === type))
        .map((r) => r.event)
    },
    clearPublished() {
      published.length = 0
    },
  }) as TestBus
}

/**
 * Resolves with the first event on `topic` that matches, reading from the start of retained
 * history by default, so an event published before the call is found too.
 * @throws {Error} when nothing matches within `timeoutMs`.
 * @example
 * await signUp()
 * const welcome = await waitFor(bus, 'notifications', (e) => e.type === 'user.welcome')
 */
export async function waitFor<T = unknown>(
  bus: EventBus,
  topic: string,
  match: (event: EventEnvelope<T>) => boolean = () => true,
  options: { timeoutMs?: number; startAt?: 'latest' | 'earliest' } = {},
): Promise<EventEnvelope<T>> {
  let found: EventEnvelope<T> | undefined
  const subscription = await bus.subscribe<T>(
    topic,
    (event) => {
      if (found === undefined && match(event)) found = event
    },
    { group: `waitfor-${crypto.randomUUID()}`, startAt: options.startAt ?? 'earliest' },
  )
  try {
    await waitUntil(() => found !== undefined, {
      timeoutMs: options.timeoutMs ?? 5_000,
      message: `a matching event on "${topic}"`,
    })
    return found!
  } finally {
    await subscription.close()
  }
}

/** Events a recorder has seen, with a way to wait for more. */
export interface EventRecorder<T = unknown> {
  /** Everything received so far, in arrival order. */
  readonly events: readonly EventEnvelope<T>[]
  /** Resolves with the first recorded event that matches, waiting up to `timeoutMs`. */
  waitFor(
    match?: (event: EventEnvelope<T>) => boolean,
    timeoutMs?: number,
  ): Promise<EventEnvelope<T>>
  /** Stops recording. */
  close(): Promise<void>
}

/**
 * Subscribes with a throwaway group and records what arrives. Resolves once attached, so what is
 * published afterwards is never missed.
 * @example
 * const mail = await recordEvents(bus, 'notifications')
 * await signUp()
 * await mail.waitFor((e) => e.type === 'user.welcome')
 */
export async function recordEvents<T = unknown>(
  bus: EventBus,
  topic: string,
  options: { startAt?: 'latest' | 'earliest' } = {},
): Promise<EventRecorder<T>> {
  const events: EventEnvelope<T>[] = []
  const subscription = await bus.subscribe<T>(topic, (event) => void events.push(event), {
    group: `recorder-${crypto.randomUUID()}`,
    startAt: options.startAt ?? 'latest',
  })
  return {
    events,
    async waitFor(match = () => true, timeoutMs = 5_000) {
      let found: EventEnvelope<T> | undefined
      await waitUntil(
        () => {
          found = events.find(match)
          return found !== undefined
        },
        {
          timeoutMs,
          message: `a matching event on "${topic}"`,
        },
      )
      return found!
    },
    close: () => subscription.close(),
  }
}
