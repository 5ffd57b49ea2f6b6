import type { DeliveryInfo } from './mapping.js'

/** Identifies a delivery across the transport: stream, consumer and sequence. */
export function deliveryId(info: DeliveryInfo): string {
  return `${info.stream}/${info.consumer}/${info.sequence}`
}

/**
 * Attempt numbers carried across a `nak`. JetStream counts deliveries, not the bus's in-process
 * retries, so when the bus gives a message back after attempt 3 the server may redeliver it as
 * delivery 2. Remembering the bus's count here (per stream, consumer and sequence) lets the
 * redelivery report the right attempt when it comes back to this transport; another process only
 * sees the server's delivery count. Entries expire, so a message that went elsewhere is forgotten.
 */
export class AttemptMemory {
  private readonly entries = new Map<string, { attempt: number; expires: number }>()

  constructor(private readonly limit = 100_000) {}

  /** Remembers that the next delivery of `id` is attempt `attempt`, for `ttlMs`. */
  remember(id: string, attempt: number, ttlMs: number): void {
    const now = Date.now()
    this.entries.delete(id)
    this.entries.set(id, { attempt, expires: now + ttlMs })
    // Oldest first (insertion order): drop expired ones, and the oldest beyond the limit.
    for (const [key, entry] of this.entries) {
      if (entry.expires > now && this.entries.size <= this.limit) break
      this.entries.delete(key)
    }
  }

  /**
   * A delivery given back without being handled: the next delivery keeps the attempt this one
   * would have had (a carried one, or the server's count for this delivery).
   */
  returned(id: string, delivered: number, ttlMs = 60_000): void {
    this.remember(id, this.take(id) ?? delivered, ttlMs)
  }

  /** The remembered attempt of `id`, forgetting it; `undefined` when none or expired. */
  take(id: string): number | undefined {
    const entry = this.entries.get(id)
    if (entry === undefined) return undefined
    this.entries.delete(id)
    return entry.expires > Date.now() ? entry.attempt : undefined
  }

  /** Entries held; 0 on the hot path unless something was given back. */
  get size(): number {
    return this.entries.size
  }
}
