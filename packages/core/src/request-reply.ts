import { randomUUID } from 'node:crypto'
import type { EventEnvelope, EventInput } from './envelope.js'
import { ConfigurationError, TimeoutError } from './errors.js'
import type { HandleContext } from './middleware.js'
import { checkKeys, checkNumber } from './options.js'
import type { EventHandler } from './subscribe-options.js'

/** Options of `bus.request`. */
export interface RequestOptions {
  /** Give up after this long. @default 5_000 */
  timeoutMs?: number
}

/** What request/reply needs from the bus. */
export interface RequestReplyBus {
  readonly source: string | undefined
  publish(topic: string, input: EventInput): Promise<EventEnvelope>
  /** Publishes a reply to a requester's inbox (a temporary topic). */
  publishReply(topic: string, input: EventInput): Promise<EventEnvelope>
  /** Opens the ephemeral inbox subscription. */
  openInbox(topic: string, handler: (event: EventEnvelope) => void): Promise<unknown>
}

/**
 * Requests and replies over ordinary topics: each bus has one inbox, an ephemeral subscription
 * on a topic of its own; a request carries the inbox in its `replyto` extension, and a reply is
 * matched to its request by `causationid`.
 */
export class RequestReply {
  private inbox: { topic: string; ready: Promise<unknown> } | undefined
  private readonly pending = new Map<string, (event: EventEnvelope) => void>()

  constructor(private readonly bus: RequestReplyBus) {}

  /** Publishes a request and resolves with the first reply. @throws {TimeoutError} */
  async request<T, R>(
    topic: string,
    input: EventInput<T> | T,
    options: RequestOptions,
  ): Promise<EventEnvelope<R>> {
    checkKeys(options, ['timeoutMs'], 'request')
    const timeoutMs = checkNumber(options.timeoutMs ?? 5_000, 'request.timeoutMs', { min: 1 })
    const inbox = await this.ensureInbox()
    const base = (
      isEventInput(input) ? input : { type: `${topic}.request`, data: input }
    ) as EventInput<T>
    const id = randomUUID()
    const event: EventInput<T> = {
      ...base,
      id,
      correlationid: base.correlationid ?? id,
      extensions: { ...base.extensions, replyto: inbox },
    }
    let timer: NodeJS.Timeout | undefined
    const reply = new Promise<EventEnvelope>((resolve, reject) => {
      this.pending.set(id, resolve)
      timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new TimeoutError(`No reply on "${topic}" within ${timeoutMs} ms`, { timeoutMs }))
      }, timeoutMs)
    })
    try {
      await this.bus.publish(topic, event as EventInput)
      return (await reply) as EventEnvelope<R>
    } finally {
      clearTimeout(timer)
      this.pending.delete(id)
    }
  }

  /** Answers a request event. @throws {ConfigurationError} when it carries no reply address. */
  async reply(request: EventEnvelope, data: unknown, init: { type?: string } = {}): Promise<void> {
    const replyTo = request.extensions?.replyto
    if (replyTo === undefined) {
      throw new ConfigurationError(
        `Event ${request.id} carries no reply address; was it sent with bus.request()?`,
        { field: 'extensions.replyto' },
      )
    }
    const reply: EventInput = {
      type: init.type ?? `${request.type}.reply`,
      source: this.bus.source ?? request.source,
      causationid: request.id,
      correlationid: request.correlationid ?? request.id,
    }
    if (data !== undefined) reply.data = data
    if (request.tenantid !== undefined) reply.tenantid = request.tenantid
    await this.bus.publishReply(replyTo, reply)
  }

  private async ensureInbox(): Promise<string> {
    if (this.inbox === undefined) {
      const topic = `_switchyard.inbox.${randomUUID()}`
      const ready = this.bus.openInbox(topic, (event) => {
        const waiting =
          event.causationid === undefined ? undefined : this.pending.get(event.causationid)
        waiting?.(event)
      })
      this.inbox = { topic, ready }
      ready.catch(() => {
        this.inbox = undefined
      })
    }
    await this.inbox.ready
    return this.inbox.topic
  }
}

function isEventInput(value: unknown): value is EventInput {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { type?: unknown }).type === 'string'
  )
}

/** The handler of `bus.respond`: the responder's result goes back as the reply's data. */
export function replying<T>(
  responder: (event: EventEnvelope<T>, ctx: HandleContext<T>) => unknown,
): EventHandler {
  return async (event, ctx) => {
    await ctx.reply(await responder(event as EventEnvelope<T>, ctx as HandleContext<T>))
  }
}
