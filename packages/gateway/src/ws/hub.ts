import type { EventBus, EventEnvelope, Subscription } from '@switchyard/core'

/** A live event as the hub hands it to connections: the envelope and its frame, built once. */
export interface LiveEvent {
  readonly event: EventEnvelope
  /** Broker position (`sequence` in frames; what `from_sequence` takes). */
  readonly sequence: string | undefined
  /** The `event` frame, serialized and encoded once for every connection. */
  readonly frame: Buffer
}

/** One listener of a stream: a connection, with its own filter. */
export type LiveListener = (live: LiveEvent) => void

/** The frame a client receives for one event. */
export function eventFrame(stream: string, event: EventEnvelope, sequence: string | undefined) {
  return JSON.stringify({ type: 'event', stream, sequence: sequence ?? null, event })
}

interface Channel {
  readonly listeners: Set<LiveListener>
  subscription: Promise<Subscription>
}

/**
 * Live events of each watched stream, read once per gateway process by one subscription in the
 * process's own consumer group (new groups start at `latest`) and fanned out in process. Other
 * groups lose nothing: the hub's group is one more reader. A stream's subscription stays open
 * until the gateway closes: closing it would leave the group behind on the broker, collecting
 * events for a reader that reopens it later and would then be handed stale ones.
 */
export class LiveHub {
  private readonly channels = new Map<string, Channel>()
  private closed = false
  private burst = 0

  constructor(
    private readonly bus: EventBus,
    private readonly group: string,
    private readonly burstBytes: number,
  ) {}

  /**
   * Adds a listener to a stream; resolves once the stream's subscription is attached, so every
   * event published afterwards reaches it. Returns the function that removes it.
   * @throws when the subscription cannot be opened (the broker refused it).
   */
  async listen(stream: string, listener: LiveListener): Promise<() => void> {
    if (this.closed) throw new Error('The gateway is closing')
    let channel = this.channels.get(stream)
    if (channel === undefined) {
      const listeners = new Set<LiveListener>()
      const subscription = this.bus.subscribe(
        stream,
        (event, ctx) => {
          if (listeners.size === 0) return
          const sequence = ctx.message.position
          const live: LiveEvent = {
            event,
            sequence,
            frame: Buffer.from(eventFrame(stream, event, sequence)),
          }
          for (const deliver of listeners) deliver(live)
          // Sockets write when the event loop polls: after `burstBytes` of frames the loop gets a
          // turn, so a burst read from the broker at once does not land in the client buffers.
          this.burst += live.frame.length
          if (this.burst < this.burstBytes) return
          this.burst = 0
          return new Promise<void>((resolve) => setImmediate(resolve))
        },
        {
          group: this.group,
          startAt: 'latest',
          deadLetter: false,
          retry: { maxAttempts: 1 },
          prefetch: 1024,
        },
      )
      channel = { listeners, subscription }
      this.channels.set(stream, channel)
      // A failed open is retried by the next listener.
      subscription.catch(() => {
        if (this.channels.get(stream) === channel) this.channels.delete(stream)
      })
    }
    channel.listeners.add(listener)
    const { listeners } = channel
    try {
      await channel.subscription
    } catch (error) {
      listeners.delete(listener)
      throw error
    }
    return () => listeners.delete(listener)
  }

  /** Streams with an open subscription, and their listener counts. */
  stats(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const [stream, channel] of this.channels) out[stream] = channel.listeners.size
    return out
  }

  /** Closes every stream subscription. */
  async close(): Promise<void> {
    this.closed = true
    const open = [...this.channels.values()]
    this.channels.clear()
    await Promise.all(
      open.map(async (channel) => {
        channel.listeners.clear()
        const subscription = await channel.subscription.catch(() => undefined)
        await subscription?.close().catch(() => undefined)
      }),
    )
  }
}
