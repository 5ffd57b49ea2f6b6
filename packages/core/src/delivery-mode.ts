import { ConfigurationError } from './errors.js'
import { checkOneOf } from './options.js'

/**
 * When a subscription settles an event with the broker. `at-least-once` (default): after the
 * handler succeeded or the event was dead-lettered, so a crash redelivers it. `at-most-once`: on
 * receipt, before the handler, so a crash loses the events in flight and nothing is handled
 * twice; a failing handler's event is dead-lettered at once, never retried. `exactly-once`: a
 * handler's publishes and the consumed position commit together, where the transport can do it.
 */
export type DeliveryMode = 'at-least-once' | 'at-most-once' | 'exactly-once'

const MODES: readonly DeliveryMode[] = ['at-least-once', 'at-most-once', 'exactly-once']

/**
 * Checks the `delivery` option against what the transport can do.
 * @throws {ConfigurationError} for an unknown mode, or `exactly-once` on a transport without it.
 */
export function checkDelivery(
  mode: DeliveryMode | undefined,
  transport: { name: string; features: { exactlyOnce?: boolean | undefined } },
): DeliveryMode {
  const delivery = checkOneOf(mode ?? 'at-least-once', MODES, 'subscribe.delivery')
  if (delivery === 'exactly-once' && transport.features.exactlyOnce !== true) {
    throw new ConfigurationError(
      `The ${transport.name} transport cannot commit a handler's publishes and its consumed position together, so exactly-once is refused. For effectively-once handling use at-least-once with dedup() and a shared store (redisDedupStore), or record "handled" in the handler's own database transaction (the outbox's inbox table)`,
      { field: 'subscribe.delivery' },
    )
  }
  return delivery
}
