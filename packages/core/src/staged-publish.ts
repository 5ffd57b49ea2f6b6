import type { EventEnvelope } from './envelope.js'
import { composePublish, type PublishContext, type PublishMiddleware } from './middleware.js'
import type { OutboundMessage, TransactionalOutput } from './transport.js'

/** A publish context that also says where its encoded message is to be held. */
interface StagingContext extends PublishContext {
  readonly outputs: TransactionalOutput[]
}

/** Holds an event for a later transactional store, after the publish middleware ran over it. */
export type StagePublish = (
  topic: string,
  event: EventEnvelope,
  outputs: TransactionalOutput[],
) => Promise<EventEnvelope>

/**
 * Runs an event through the publish middleware (validation, tracing, encryption) and appends
 * its encoded message to `outputs` instead of sending it: a handler's publish under
 * exactly-once, which the transport stores later together with the consumed position.
 */
export function stagingPublisher(
  middleware: readonly PublishMiddleware[],
  toMessage: (event: EventEnvelope) => OutboundMessage,
  transport: string,
): StagePublish {
  const chain = composePublish(middleware, async (ctx) => {
    const { outputs } = ctx as StagingContext
    const message = toMessage(ctx.event)
    const last = outputs[outputs.length - 1]
    if (last?.topic === ctx.topic) last.messages.push(message)
    else outputs.push({ topic: ctx.topic, messages: [message] })
  })
  return async (topic, event, outputs) => {
    const ctx: StagingContext = { topic, event, transport, outputs }
    await chain(ctx)
    return ctx.event
  }
}
