import type { InboundMessage } from '@switchyard/core/transport'

/** The dispatcher's one open `pull`: parked until answered with messages, [] or an error. */
export class PullWaiter {
  private open:
    | {
        max: number
        signal: AbortSignal
        deliver: (messages: InboundMessage[]) => void
        fail: (error: unknown) => void
      }
    | undefined
  /** Signals with an abort listener: one each, not one per pull (EventTarget calls are slow). */
  private readonly watched = new WeakSet<AbortSignal>()

  /** True while a pull waits for an answer. */
  get waiting(): boolean {
    return this.open !== undefined
  }

  /** Most messages the waiting pull takes. */
  get max(): number {
    return this.open?.max ?? 0
  }

  /** Parks a pull; an abort of its signal answers it with []. */
  park(
    max: number,
    signal: AbortSignal,
    deliver: (messages: InboundMessage[]) => void,
    fail: (error: unknown) => void,
  ): void {
    if (!this.watched.has(signal)) {
      this.watched.add(signal)
      signal.addEventListener('abort', () => {
        if (this.open?.signal === signal) this.answer([])
      })
    }
    this.open = { max, signal, deliver, fail }
  }

  /** Answers the waiting pull with messages ([] once closed). */
  answer(messages: InboundMessage[]): void {
    const open = this.open!
    this.open = undefined
    open.deliver(messages)
  }

  /** Answers the waiting pull with a read error. */
  fail(error: unknown): void {
    const open = this.open!
    this.open = undefined
    open.fail(error)
  }
}
