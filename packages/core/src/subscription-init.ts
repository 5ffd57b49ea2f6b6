import type { BusHooks } from './bus-options.js'
import type { Codec } from './codec.js'
import type { EventEnvelope, EventInput } from './envelope.js'
import type { HandleMiddleware } from './middleware.js'
import type { EventHandler, SubscribeOptions } from './subscribe-options.js'
import type { OutboundMessage, TransactionalOutput, Transport } from './transport.js'

/** What the bus hands a subscription. */
export interface SubscriptionInit {
  topic: string
  handler: EventHandler
  options: SubscribeOptions
  /** A private subscription of this process (request/reply inbox). */
  ephemeral?: boolean
  transport: Transport
  codec: Codec
  middleware: readonly HandleMiddleware[]
  gates: readonly ((() => boolean) | undefined)[]
  hooks: BusHooks
  deadLetterSuffix: string
  defaultCloseTimeoutMs: number
  source: string
  publishRaw(topic: string, messages: OutboundMessage[]): Promise<void>
  toMessage(event: EventEnvelope): OutboundMessage
  reply(request: EventEnvelope, data: unknown, init?: { type?: string }): Promise<void>
  publish<T>(topic: string, input: EventInput<T>): Promise<EventEnvelope<T>>
  /** Runs an event through the publish middleware into `outputs` instead of sending it. */
  stage(topic: string, input: EventInput, outputs: TransactionalOutput[]): Promise<EventEnvelope>
  /** Called once the subscription closed. */
  onClosed(): void
}
