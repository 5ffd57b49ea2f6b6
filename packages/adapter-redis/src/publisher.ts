import type { OutboundMessage } from '@switchyard/core/transport'
import type { Cluster, Redis } from 'ioredis'
import { publishError } from './errors.js'
import { toFields } from './mapping.js'

interface Pending {
  topic: string
  stream: string
  messages: readonly OutboundMessage[]
  resolve: () => void
  reject: (error: Error) => void
}

/**
 * Coalesces the publishes of one event-loop turn into one pipeline: concurrent `bus.publish`
 * calls then share a single write and round trip instead of paying one each.
 */
export class Publisher {
  private queue: Pending[] = []
  private readonly inFlight = new Set<Promise<void>>()
  private scheduled = false

  constructor(
    private readonly client: Redis | Cluster,
    private readonly maxStreamLength: number | undefined,
    private readonly cluster: boolean,
  ) {}

  /** Appends the messages to the stream, in order; resolves once Redis returned every id. */
  publish(topic: string, stream: string, messages: readonly OutboundMessage[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ topic, stream, messages, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        // After the microtasks of this turn: every publish started in it joins the batch.
        process.nextTick(() => this.flush())
      }
    })
  }

  /** Resolves once everything queued so far (and anything queued meanwhile) was answered. */
  async drain(): Promise<void> {
    while (this.scheduled || this.inFlight.size > 0) {
      await new Promise((resolve) => setImmediate(resolve))
      await Promise.allSettled([...this.inFlight])
    }
  }

  private flush(): void {
    this.scheduled = false
    const batch = this.queue
    this.queue = []
    // A Cluster pipeline must stay in one hash slot: one pipeline per stream there.
    const groups = new Map<string, Pending[]>()
    for (const pending of batch) {
      const key = this.cluster ? pending.stream : ''
      const group = groups.get(key)
      if (group === undefined) groups.set(key, [pending])
      else group.push(pending)
    }
    for (const group of groups.values()) {
      const done = this.send(group)
      this.inFlight.add(done)
      void done.finally(() => this.inFlight.delete(done))
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    const trim = this.maxStreamLength === undefined ? [] : ['MAXLEN', '~', this.maxStreamLength]
    const only = batch.length === 1 && batch[0]!.messages.length === 1 ? batch[0]! : undefined
    if (only !== undefined) {
      // A lone event (low load) skips the pipeline's bookkeeping: one command, lowest latency.
      try {
        await this.client.call('XADD', only.stream, ...trim, '*', ...toFields(only.messages[0]!))
        only.resolve()
      } catch (error) {
        only.reject(publishError(only.topic, 1, error))
      }
      return
    }
    const pipeline = this.client.pipeline()
    for (const pending of batch) {
      for (const message of pending.messages) {
        pipeline.call('XADD', pending.stream, ...trim, '*', ...toFields(message))
      }
    }
    let results: Array<[Error | null, unknown]> | null
    try {
      results = await pipeline.exec()
    } catch (error) {
      results = null
      for (const pending of batch)
        pending.reject(publishError(pending.topic, pending.messages.length, error))
      return
    }
    let index = 0
    for (const pending of batch) {
      let failure: Error | null = null
      for (let i = 0; i < pending.messages.length; i++) failure ??= results?.[index++]?.[0] ?? null
      if (failure === null && results !== null) pending.resolve()
      else
        pending.reject(publishError(pending.topic, pending.messages.length, failure ?? 'no reply'))
    }
  }
}
