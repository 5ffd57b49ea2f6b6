import { type EventBus, type EventInput, toError } from '@switchyard/core'
import { resultEvent, type StreamResult, toResult } from './results.js'
import { runResultSteps, type Step } from './steps.js'
import type { OutboxItem } from './store.js'

/** Where results go: a topic (`to`) or a function (`forEach`), after the result steps. */
export type Sink =
  | { readonly topic: string; readonly type: string | undefined; readonly steps: readonly Step[] }
  | { readonly each: (result: StreamResult<unknown>) => unknown; readonly steps: readonly Step[] }

const RETRY_MS = 1_000

/**
 * Delivers committed outbox items: late events to their topics, results to the sink. What fails
 * stays queued (and in the store) and is tried again; ids delivered are handed to the next commit
 * so the store forgets them.
 */
export class Delivery {
  private queue: OutboxItem[] = []
  private sent: string[] = []
  private timer: ReturnType<typeof setTimeout> | undefined
  private flushing: Promise<void> | undefined

  constructor(
    private readonly bus: EventBus,
    private readonly stream: string,
    private readonly sink: Sink,
  ) {}

  add(items: readonly OutboxItem[]): void {
    for (const item of items) this.queue.push(item)
  }

  takeSent(): string[] {
    const ids = this.sent
    this.sent = []
    return ids
  }

  restoreSent(ids: readonly string[]): void {
    for (const id of ids) this.sent.push(id)
  }

  /** Items waiting for delivery. */
  get backlog(): number {
    return this.queue.length
  }

  /**
   * Delivers everything queued, in order, and resolves when the queue is empty or a delivery
   * failed (logged; tried again after a second). Calls while one runs join it.
   */
  flush(): Promise<void> {
    if (this.flushing !== undefined) return this.flushing
    if (this.queue.length === 0) return Promise.resolve()
    this.flushing = (async () => {
      while (this.queue.length > 0) if (!(await this.deliver())) return
    })().finally(() => {
      this.flushing = undefined
    })
    return this.flushing
  }

  private async deliver(): Promise<boolean> {
    const items = this.queue
    this.queue = []
    let done = 0
    try {
      const late = new Map<string, OutboxItem[]>()
      const results: OutboxItem[] = []
      for (const item of items) {
        if (item.late === undefined) results.push(item)
        else late.set(item.late.topic, [...(late.get(item.late.topic) ?? []), item])
      }
      for (const [topic, group] of late) {
        await this.bus.publishBatch(
          topic,
          group.map((i) => i.late?.event as EventInput),
        )
        for (const i of group) this.sent.push(i.id)
        done += group.length
      }
      await this.deliverResults(results)
      return true
    } catch (error) {
      const sent = new Set(this.sent)
      const failed = items.filter((i) => !sent.has(i.id))
      this.queue = [...failed, ...this.queue]
      this.bus.logger.error(
        {
          stream: this.stream,
          undelivered: failed.length,
          delivered: done,
          error: toError(error).message,
        },
        `stream results could not be delivered; retrying in ${RETRY_MS} ms`,
      )
      this.timer ??= setTimeout(() => {
        this.timer = undefined
        void this.flush()
      }, RETRY_MS)
      this.timer.unref?.()
      return false
    }
  }

  private async deliverResults(items: readonly OutboxItem[]): Promise<void> {
    const sink = this.sink
    const results: StreamResult<unknown>[] = []
    const skipped: string[] = []
    for (const item of items) {
      const output = item.output
      if (output === undefined) continue
      const shaped = runResultSteps(sink.steps, output.data)
      if (shaped === undefined) skipped.push(item.id)
      else results.push(toResult(output, shaped.value))
    }
    if ('topic' in sink) {
      if (results.length > 0) {
        await this.bus.publishBatch(
          sink.topic,
          results.map((r) => resultEvent(this.stream, r, sink.type)),
        )
      }
      for (const r of results) this.sent.push(r.id)
    } else {
      for (const r of results) {
        await sink.each(r)
        this.sent.push(r.id)
      }
    }
    for (const id of skipped) this.sent.push(id)
  }
}
