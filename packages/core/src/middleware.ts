import type { EventEnvelope, EventInput } from './envelope.js'
import { ConfigurationError } from './errors.js'
import type { Outcome } from './outcome.js'

/** What publish middleware sees: one event on its way to a topic. */
export interface PublishContext {
  /** Destination topic. */
  readonly topic: string
  /** The complete envelope; middleware may replace it (e.g. add `traceparent`). */
  event: EventEnvelope
  /** Name of the transport (`memory`, `redis`, ...). */
  readonly transport: string
  /**
   * True for a reply to `bus.request()`: the topic is the requester's short-lived inbox, one
   * per bus, so telemetry should not label series by it. @default false
   */
  readonly temporary?: boolean
}

/** What handle middleware and handlers see: one delivery attempt of one event. */
export interface HandleContext<T = unknown> {
  /** The decoded event. */
  readonly event: EventEnvelope<T>
  /** Topic it came from. */
  readonly topic: string
  /** Consumer group handling it. */
  readonly group: string
  /** 1-based attempt number, counting in-process retries and broker redeliveries. */
  readonly attempt: number
  /** The subscription's retry budget. */
  readonly maxAttempts: number
  /** Name of the transport. */
  readonly transport: string
  /** True when the topic is this bus's short-lived request/reply inbox. @default false */
  readonly temporary?: boolean
  /** Transport headers and position of the message. */
  readonly message: {
    readonly headers: Readonly<Record<string, string>>
    readonly position: string | undefined
  }
  /** Aborts when the subscription is closing and the handler should wrap up. */
  readonly signal: AbortSignal
  /** Answers a `bus.request()`; throws if the event carries no reply address. */
  reply(data: unknown, init?: { type?: string }): Promise<void>
  /**
   * Publishes an event this one caused. Under `delivery: 'exactly-once'` it is held and stored
   * together with this event's position once the handler succeeds (a failed attempt's publishes
   * are discarded), and resolves with the envelope as soon as it is held; otherwise it is
   * `bus.publish`.
   */
  publish<T>(topic: string, input: EventInput<T>): Promise<EventEnvelope<T>>
}

/** Publish middleware: call `next()` to continue; skip it to drop the event silently. */
export type PublishMiddleware = (ctx: PublishContext, next: () => Promise<void>) => Promise<void>

/**
 * Handle middleware: `next()` runs the rest of the chain and the handler and resolves with the
 * outcome, already classified (a thrown handler error arrives as `retry` or `dead-letter` with
 * its `error`). Return the outcome, or a different one.
 */
export type HandleMiddleware = (
  ctx: HandleContext,
  next: () => Promise<Outcome>,
) => Promise<Outcome>

/** A middleware may wrap publishing, handling, or both. */
export interface Middleware {
  /** Shown in errors and logs. */
  readonly name?: string
  /** Wraps each published event. */
  readonly publish?: PublishMiddleware
  /** Wraps each handling attempt. */
  readonly handle?: HandleMiddleware
  /**
   * Asked before each event: `false` means this middleware would only call `next()`, so the bus
   * may skip it and keep its fast path (e.g. tracing while no SDK is registered). @default always on
   */
  readonly enabled?: () => boolean
}

/** True when none of the middleware has work to do right now. */
export function allIdle(gates: readonly ((() => boolean) | undefined)[]): boolean {
  for (const gate of gates) if (gate === undefined || gate()) return false
  return true
}

/** Composes publish middleware around a terminal step; first in the list runs outermost. */
export function composePublish(
  list: readonly PublishMiddleware[],
  terminal: (ctx: PublishContext) => Promise<void>,
): (ctx: PublishContext) => Promise<void> {
  if (list.length === 0) return terminal
  return (ctx) => {
    const step = (i: number): Promise<void> =>
      i === list.length ? terminal(ctx) : list[i]!(ctx, () => step(i + 1))
    return step(0)
  }
}

/** Composes handle middleware around a terminal step; first in the list runs outermost. */
export function composeHandle(
  list: readonly HandleMiddleware[],
  terminal: (ctx: HandleContext) => Promise<Outcome>,
): (ctx: HandleContext) => Promise<Outcome> {
  if (list.length === 0) return terminal
  return (ctx) => {
    const step = (i: number): Promise<Outcome> =>
      i === list.length ? terminal(ctx) : list[i]!(ctx, () => step(i + 1))
    return step(0)
  }
}

/**
 * Runs each event of a batch through its own publish chain; the chains meet at one call of
 * `sendBatch`, made once every chain has either reached the end or stopped early (a middleware
 * that drops). One refused event (a failed validation) keeps the whole batch back. Resolves
 * with the envelopes as the middleware left them.
 */
export async function publishBatchThrough(
  middleware: readonly PublishMiddleware[],
  contexts: PublishContext[],
  sendBatch: (events: EventEnvelope[]) => Promise<void>,
): Promise<EventEnvelope[]> {
  const reached = new Set<PublishContext>()
  let refused: { error: unknown } | undefined
  let settled = 0
  let allSettled!: () => void
  const gate = new Promise<void>((resolve) => {
    allSettled = resolve
  })
  const settle = () => {
    if (++settled === contexts.length) allSettled()
  }
  const sent = gate.then(() => {
    if (refused !== undefined) throw refused.error
    const batch = contexts.filter((c) => reached.has(c)).map((c) => c.event)
    return batch.length === 0 ? undefined : sendBatch(batch)
  })
  sent.catch(() => undefined) // observed by the chains that reached it; never unhandled
  const chain = composePublish(middleware, (ctx) => {
    reached.add(ctx)
    settle()
    return sent
  })
  const results = await Promise.allSettled(
    contexts.map((ctx) =>
      chain(ctx).then(
        () => {
          if (!reached.has(ctx)) settle()
        },
        (error: unknown) => {
          if (!reached.has(ctx)) {
            refused ??= { error }
            settle()
          }
          throw error
        },
      ),
    ),
  )
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed !== undefined) throw failed.reason
  return contexts.map((c) => c.event)
}

/** The publish and handle chains of a middleware list, with each one's `enabled` gate. */
export interface MiddlewareChains {
  publish: PublishMiddleware[]
  handle: HandleMiddleware[]
  publishGates: Array<(() => boolean) | undefined>
  handleGates: Array<(() => boolean) | undefined>
}

/** Splits a middleware list into its chains. @throws {ConfigurationError} unless it is an array. */
export function splitMiddleware(middleware: readonly Middleware[]): MiddlewareChains {
  if (!Array.isArray(middleware)) {
    throw new ConfigurationError('middleware must be an array', { field: 'middleware' })
  }
  return {
    publish: middleware.flatMap((m) => (m.publish ? [m.publish.bind(m)] : [])),
    handle: middleware.flatMap((m) => (m.handle ? [m.handle.bind(m)] : [])),
    publishGates: middleware.flatMap((m) => (m.publish ? [m.enabled?.bind(m)] : [])),
    handleGates: middleware.flatMap((m) => (m.handle ? [m.enabled?.bind(m)] : [])),
  }
}
