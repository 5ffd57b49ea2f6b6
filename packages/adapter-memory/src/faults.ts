import { disconnectedError, injectedPublishError } from './errors.js'

/**
 * Fault injection for the memory transport, so users can test their failure paths: publishes
 * that fail, a broker that goes away, acknowledgements that are slow.
 */
export class MemoryFaults {
  /** Extra milliseconds every ack takes. */
  ackDelayMs = 0
  private failing = 0
  private failure: ((topic: string) => Error) | undefined
  private down = false
  private reconnectWaiters: Array<() => void> = []

  /** True between `disconnect()` and `reconnect()`. */
  get disconnected(): boolean {
    return this.down
  }

  /** The next `count` publishes (calls, not events) fail with `error` (a retryable `PublishError` by default). */
  failNextPublishes(count: number, error?: Error): void {
    this.failing = count
    this.failure = error === undefined ? injectedPublishError : () => error
  }

  /** Every ack waits `ms` before it completes. */
  slowAcks(ms: number): void {
    this.ackDelayMs = ms
  }

  /** Publishes and acks fail with `ConnectionError`, subscriptions stall, health reports down. */
  disconnect(): void {
    this.down = true
  }

  /** Ends a `disconnect()`: stalled subscriptions resume. */
  reconnect(): void {
    this.down = false
    for (const resolve of this.reconnectWaiters.splice(0)) resolve()
  }

  /** Clears every injected fault. */
  reset(): void {
    this.failing = 0
    this.ackDelayMs = 0
    this.reconnect()
  }

  /** @internal */
  beforePublish(topic: string): void {
    this.checkConnected()
    if (this.failing > 0) {
      this.failing--
      throw this.failure!(topic)
    }
  }

  /** @internal */
  checkConnected(): void {
    if (this.down) throw disconnectedError()
  }

  /** @internal Resolves on reconnect or abort. */
  whenConnected(signal: AbortSignal): Promise<void> {
    if (!this.down) return Promise.resolve()
    return new Promise((resolve) => {
      this.reconnectWaiters.push(resolve)
      signal.addEventListener('abort', () => resolve(), { once: true })
    })
  }
}
