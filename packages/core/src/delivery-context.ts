import type { EventEnvelope, EventInput } from './envelope.js'
import { typeMatcher } from './glob.js'
import type { HandleContext } from './middleware.js'
import type { SubscribeOptions } from './subscribe-options.js'
import type { InboundMessage, TransactionalOutput } from './transport.js'

/** What a delivery context reads from its subscription. */
export interface ContextOwner {
  readonly topic: string
  readonly group: string
  readonly maxAttempts: number
  readonly transportName: string
  readonly ephemeral: boolean
  replyTo(event: EventEnvelope, data: unknown, init?: { type?: string }): Promise<void>
  publishFrom<T>(
    ctx: DeliveryContext,
    topic: string,
    input: EventInput<T>,
  ): Promise<EventEnvelope<T>>
}

/** The context of one attempt; a class, so no closures are allocated per event. */
export class DeliveryContext implements HandleContext {
  readonly topic: string
  readonly group: string
  readonly maxAttempts: number
  readonly transport: string
  readonly temporary: boolean
  /** Under exactly-once: what the handler published, stored with the event's position. */
  staged: TransactionalOutput[] | undefined

  constructor(
    private readonly subscription: ContextOwner,
    readonly event: EventEnvelope,
    private readonly inbound: InboundMessage,
    readonly attempt: number,
    readonly signal: AbortSignal,
  ) {
    this.topic = subscription.topic
    this.group = subscription.group
    this.maxAttempts = subscription.maxAttempts
    this.transport = subscription.transportName
    this.temporary = subscription.ephemeral
  }

  get message(): HandleContext['message'] {
    return { headers: this.inbound.headers, position: this.inbound.position }
  }

  reply(data: unknown, init?: { type?: string }): Promise<void> {
    return this.subscription.replyTo(this.event, data, init)
  }

  publish<T>(topic: string, input: EventInput<T>): Promise<EventEnvelope<T>> {
    return this.subscription.publishFrom(this, topic, input)
  }
}

/** The `types` and `tenant` filters of a subscription as one predicate. */
export function eventFilter(options: SubscribeOptions): (event: EventEnvelope) => boolean {
  const byType = options.types === undefined ? undefined : typeMatcher(options.types)
  const tenants =
    options.tenant === undefined
      ? undefined
      : new Set(typeof options.tenant === 'string' ? [options.tenant] : options.tenant)
  if (byType === undefined && tenants === undefined) return () => true
  return (event) =>
    (byType === undefined || byType(event.type)) &&
    (tenants === undefined || (event.tenantid !== undefined && tenants.has(event.tenantid)))
}
