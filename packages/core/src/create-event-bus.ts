import type { EventBusOptions } from './bus-options.js'
import { EventBus } from './event-bus.js'

/**
 * Creates an event bus over a transport.
 * @throws {ConfigurationError} for unknown options or a missing transport.
 * @example
 * const bus = createEventBus({ transport: memoryTransport(), source: 'hr-service' })
 */
export function createEventBus(options: EventBusOptions): EventBus {
  return new EventBus(options)
}
