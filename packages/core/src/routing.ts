import { ConfigurationError } from './errors.js'
import { typeMatcher } from './glob.js'
import type { EventHandler, SubscribeOptions } from './subscribe-options.js'
import type { Subscription } from './subscription.js'

/**
 * Handlers by event type for one subscription (Olive's `add_handler` / `set_default_handler`):
 * keys are exact types or globs (`leave.*` one segment, `leave.**` any), `default` takes what no
 * key matches. An exact key wins over a glob; globs are tried in the order given.
 * @example
 * await bus.subscribe('employees', { 'employee.created': onHire, 'leave.*': onLeave, default: onOther })
 */
export type EventRoutes = { readonly [pattern: string]: EventHandler<never> }

/** The subscriptions of one `subscribe` call over several topics, closed together. */
export class Subscriptions implements AsyncDisposable {
  constructor(
    /** One per topic, in the order given. */
    readonly subscriptions: readonly Subscription[],
  ) {}

  /** Closes every subscription (see `Subscription.close`). */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    await Promise.all(this.subscriptions.map((s) => s.close(options)))
  }

  /** `await using subs = await bus.subscribe([...], ...)` closes them at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}

/** Opens one subscription per topic; if any fails, closes the others and rethrows. */
export async function openAll(
  topics: readonly string[],
  open: (topic: string) => Promise<Subscription>,
): Promise<Subscriptions> {
  const opened = await Promise.allSettled(topics.map(open))
  const subscriptions = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
  const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed === undefined) return new Subscriptions(subscriptions)
  await Promise.allSettled(subscriptions.map((s) => s.close()))
  throw failed.reason
}

/** A handler, or routes turned into one; `types` narrows the subscription when there is no default. */
export function toHandler(
  handler: EventHandler | EventRoutes,
  options: SubscribeOptions,
): { handler: EventHandler; options: SubscribeOptions } {
  if (typeof handler === 'function') return { handler, options }
  if (options.batch !== undefined) {
    throw new ConfigurationError('A batch subscription takes one batch handler, not routes', {
      field: 'handler',
    })
  }
  if (handler === null || typeof handler !== 'object' || Array.isArray(handler)) {
    throw new ConfigurationError(
      'subscribe needs a handler function or routes ({ "type.glob": handler, default: handler })',
      { field: 'handler' },
    )
  }
  const exact = new Map<string, EventHandler>()
  const globs: Array<[(type: string) => boolean, EventHandler]> = []
  const patterns: string[] = []
  let fallback: EventHandler | undefined
  for (const [pattern, given] of Object.entries(handler)) {
    const route = given as EventHandler
    if (typeof route !== 'function') {
      throw new ConfigurationError(`The route for "${pattern}" must be a handler function`, {
        field: `handler.${pattern}`,
      })
    }
    if (pattern === 'default') {
      fallback = route
      continue
    }
    patterns.push(pattern)
    if (pattern.includes('*')) globs.push([typeMatcher(pattern), route])
    else exact.set(pattern, route)
  }
  if (patterns.length === 0 && fallback === undefined) {
    throw new ConfigurationError('Routes need at least one event type or a default', {
      field: 'handler',
    })
  }
  const routed: EventHandler = (event, ctx) => {
    let route = exact.get(event.type)
    if (route === undefined) {
      for (const [matches, candidate] of globs) {
        if (matches(event.type)) {
          route = candidate
          break
        }
      }
    }
    // Without a default the subscription's types are the route keys: nothing else gets here.
    return (route ?? fallback)?.(event, ctx)
  }
  // Without a default, only routed types are taken; the rest are acknowledged and skipped.
  const narrowed =
    fallback === undefined && options.types === undefined
      ? { ...options, types: patterns }
      : options
  return { handler: routed, options: narrowed }
}

/**
 * What each consumer group of a topic filters on, per bus: members of one group share the
 * broker's deliveries, so members with different filters would each acknowledge and skip what
 * was meant for the other. Such a second subscription is refused.
 */
export class GroupFilters {
  private readonly claims = new Map<string, { filter: string; count: number }>()
  private readonly bySubscription = new Map<Subscription, string>()

  /** Records a subscription's filter. @throws {ConfigurationError} when the group has another. */
  claim(topic: string, options: SubscribeOptions): string {
    const group = options.group ?? 'default'
    const key = `${topic}\0${group}`
    const filter = JSON.stringify([list(options.types), list(options.tenant)])
    const held = this.claims.get(key)
    if (held !== undefined && held.filter !== filter) {
      throw new ConfigurationError(
        `Group "${group}" on "${topic}" already has a member with another types/tenant filter; members of one group share the events, so each would skip the other's. Subscribe once with routes instead: bus.subscribe(topic, { "type.a": onA, "type.b": onB })`,
        { field: 'types' },
      )
    }
    if (held === undefined) this.claims.set(key, { filter, count: 1 })
    else held.count++
    return key
  }

  /** Ties a claim to the subscription that holds it. */
  hold(subscription: Subscription, key: string): void {
    this.bySubscription.set(subscription, key)
  }

  /** Gives back a claim: on a failed subscribe (by key) or a closed subscription. */
  release(holder: Subscription | string): void {
    const key = typeof holder === 'string' ? holder : this.bySubscription.get(holder)
    if (typeof holder !== 'string') this.bySubscription.delete(holder)
    const held = key === undefined ? undefined : this.claims.get(key)
    if (held === undefined || key === undefined) return
    if (--held.count === 0) this.claims.delete(key)
  }
}

function list(value: string | readonly string[] | undefined): string[] | null {
  if (value === undefined) return null
  return (typeof value === 'string' ? [value] : [...value]).sort()
}
