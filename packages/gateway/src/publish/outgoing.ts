import type { EventInput } from '@switchyard/core'

/** One event to publish and the stream it goes to. */
export interface Outgoing {
  /** Target stream (topic). */
  stream: string
  /** The event; `tenantid` is checked and stamped from the token before publishing. */
  event: EventInput
}

/** Source of events whose producer named none. */
export const DEFAULT_SOURCE = 'switchyard-gateway'
