import {
  type Backoff,
  type EventBus,
  type EventEnvelope,
  exponential,
  type HandleContext,
  HandlerError,
  type Outcome,
  outcome,
  type StartAt,
  type SubscribeOptions,
  type Subscription,
} from '@switchyard/core'
import type { Counters } from './counters.js'
import type { SubscriptionDefinition } from './definition.js'
import type { WebhookSender } from './webhook.js'
import { WsConsumers } from './ws-consumers.js'

/** A webhook or WebSocket delivery that failed; the dead-letter entry's error. */
export class WebhookDeliveryError extends HandlerError {
  /** HTTP status of the receiver's answer, when there was one. */
  readonly status: number | undefined

  constructor(message: string, status?: number) {
    super(message, { retryable: true })
    this.status = status
  }
}

/** The `startAt` of a stored definition. */
export function startAtOf(value: string): StartAt {
  return value === 'latest' || value === 'earliest' ? value : { time: value }
}

/** Where a subscription's given-up events go: `<stream>.dlq`, shared by the stream's groups. */
export function deadLetterTopic(d: SubscriptionDefinition): string {
  return `${d.streamId}.dlq`
}

/** What the runner needs from the manager. */
export interface RunnerHost {
  readonly bus: EventBus
  readonly sender: WebhookSender
  readonly counters: Counters
  report(error: Error, subscriptionId: string, where: string): void
}

/**
 * One subscription on this gateway process: a bus subscription in the subscription's broker
 * group while it should run (not paused; for WebSocket delivery, while a client is connected
 * here). Opening and closing are queued, so a pause, a resume and a client arriving at once
 * settle in order.
 */
export class Runner {
  private subscription: Subscription | undefined
  private queue: Promise<void> = Promise.resolve()
  private stopped = false
  private backoff: Backoff = () => 0
  /**
   * `Retry-After` waits per event id on this process: they do not use up attempts of the policy,
   * so core's budget is the policy's plus `maxRetryAfterWaits`, and the runner counts failures
   * as core's attempt less these waits.
   */
  private readonly waits = new Map<string, number>()
  /** Why the last open failed (tried again at the next sync). */
  failure: string | undefined
  /** WebSocket clients on this process (WebSocket delivery only). */
  readonly clients: WsConsumers | undefined

  constructor(
    public definition: SubscriptionDefinition,
    private readonly host: RunnerHost,
  ) {
    this.clients =
      definition.delivery === 'websocket'
        ? new WsConsumers(() => this.definition.ackTimeoutMs)
        : undefined
  }

  /** True while the bus subscription is open here. */
  get running(): boolean {
    return this.subscription !== undefined
  }

  private get wanted(): boolean {
    if (this.definition.paused) return false
    return this.clients === undefined || this.clients.consumers.size > 0
  }

  /** Runs `step` after the queued ones; a failed step does not stop the ones after it. */
  private enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.queue.then(step)
    this.queue = run.catch(() => undefined)
    return run
  }

  /** Opens or closes the bus subscription to match the definition and the clients. */
  reconcile(): Promise<void> {
    return this.enqueue(async () => {
      if (this.stopped) return
      if (this.wanted && this.subscription === undefined) await this.open()
      else if (!this.wanted && this.subscription !== undefined) await this.close()
    })
  }

  /** Closes for good (deleted, or the gateway closing). */
  stop(): Promise<void> {
    this.stopped = true
    return this.enqueue(() => this.close())
  }

  /**
   * Joins the group at the transport and leaves it without reading, so a new group's start
   * position is fixed now, not when the first WebSocket client connects.
   */
  pin(): Promise<void> {
    return this.enqueue(async () => {
      const { bus } = this.host
      await bus.connect()
      const source = await bus.transport.subscribe(this.definition.streamId, {
        group: this.definition.brokerGroup,
        startAt: startAtOf(this.definition.startAt),
        prefetch: 1,
      })
      await source.close()
    })
  }

  /** Most `Retry-After` waits of one event that use up no attempt (webhooks only). */
  private get waitCap(): number {
    return this.clients === undefined ? this.host.sender.maxRetryAfterWaits : 0
  }

  private options(): SubscribeOptions {
    const d = this.definition
    this.backoff = exponential({ baseMs: d.retry.initialBackoffMs, maxMs: d.retry.maxBackoffMs })
    return {
      group: d.brokerGroup,
      concurrency: d.concurrency,
      retry: { maxAttempts: d.retry.maxAttempts + this.waitCap, backoff: this.backoff },
      startAt: startAtOf(d.startAt),
      // Named, not left to the bus's suffix: the API shows it as `dead_letter_topic`.
      deadLetter: { topic: deadLetterTopic(d) },
      ...(d.types.length > 0 ? { types: d.types } : {}),
      ...(d.tenant === undefined ? {} : { tenant: d.tenant }),
    }
  }

  private async open(): Promise<void> {
    try {
      this.subscription = await this.host.bus.subscribe(
        this.definition.streamId,
        (event, ctx) => this.handle(event, ctx),
        this.options(),
      )
      this.failure = undefined
    } catch (error) {
      this.failure = (error as Error).message
      this.host.report(error as Error, this.definition.id, 'subscribe')
    }
  }

  private async close(): Promise<void> {
    const subscription = this.subscription
    this.subscription = undefined
    this.waits.clear()
    await subscription?.close().catch((error: unknown) => {
      this.host.report(error as Error, this.definition.id, 'close')
    })
  }

  private async handle(event: EventEnvelope, ctx: HandleContext): Promise<Outcome | undefined> {
    const { id } = this.definition
    const { counters } = this.host
    let detail: string
    let status: number | undefined
    let retryAfter: number | undefined
    let permanent = false
    if (this.clients !== undefined) {
      const result = await this.clients.deliver(id, event, ctx.attempt, ctx.signal)
      if (result.ok) {
        counters.delivered(id)
        return undefined
      }
      // Handed back at close: the broker redelivers it, no failure to count.
      if (result.closing) return outcome.retry({ delayMs: 0 })
      detail = result.detail
    } else {
      const result = await this.host.sender.send(this.definition, event)
      if (result.ok) {
        if (this.waits.size > 0) this.waits.delete(event.id)
        counters.delivered(id)
        return undefined
      }
      ;({ detail, status, permanent } = result)
      retryAfter = result.retryAfterMs
    }
    counters.failed(id, detail)
    const error = new WebhookDeliveryError(detail, status)
    const waited = this.waits.get(event.id) ?? 0
    if (retryAfter !== undefined && !permanent && waited < this.waitCap) {
      // The receiver asked for time: a back-off, not a failed attempt of the policy.
      if (this.waits.size >= 100_000) this.waits.clear()
      this.waits.set(event.id, waited + 1)
      return outcome.retry({ delayMs: retryAfter, error })
    }
    const failures = ctx.attempt - waited
    const { maxAttempts } = this.definition.retry
    if (permanent || failures >= maxAttempts) {
      this.waits.delete(event.id)
      counters.deadLettered(id)
      // The policy's last attempt failed: dead-letter with what the receiver said as the reason.
      const waits = waited === 0 ? '' : `, after ${waited} Retry-After waits`
      return outcome.deadLetter(`${detail} (attempt ${failures} of ${maxAttempts}${waits})`, error)
    }
    return outcome.retry({ delayMs: retryAfter ?? this.backoff(failures), error })
  }
}
