import type { CounterDelta, SubscriptionCounters } from './definition.js'

/**
 * What this gateway process counted per subscription since the last flush to the state store.
 * Every process adds its deltas to the stored counters, so the status sums all of them.
 */
export class Counters {
  private deltas = new Map<string, CounterDelta>()

  private of(id: string): CounterDelta {
    let delta = this.deltas.get(id)
    if (delta === undefined) {
      delta = { delivered: 0, failed: 0, deadLettered: 0 }
      this.deltas.set(id, delta)
    }
    return delta
  }

  /** When each subscription last delivered, ms: made an ISO string only when read. */
  private lastDelivery = new Map<string, number>()

  /** One event delivered. */
  delivered(id: string): void {
    this.of(id).delivered++
    this.lastDelivery.set(id, Date.now())
  }

  /** The delta of `id` with its last delivery time filled in. */
  private finished(id: string, delta: CounterDelta): CounterDelta {
    const at = this.lastDelivery.get(id)
    if (at !== undefined) delta.lastDeliveryAt = new Date(at).toISOString()
    return delta
  }

  /** One failed attempt, and what went wrong. */
  failed(id: string, detail: string): void {
    const delta = this.of(id)
    delta.failed++
    delta.lastError = detail
    delta.lastErrorAt = new Date().toISOString()
  }

  /** One event sent to the dead-letter topic. */
  deadLettered(id: string): void {
    this.of(id).deadLettered++
  }

  /** Takes every delta out, to be written. */
  take(): Array<[string, CounterDelta]> {
    const taken = [...this.deltas].map(
      ([id, delta]) => [id, this.finished(id, delta)] as [string, CounterDelta],
    )
    this.deltas = new Map()
    this.lastDelivery = new Map()
    return taken
  }

  /** Puts back a delta whose write failed, so the next flush carries it. */
  restore(id: string, delta: CounterDelta): void {
    const into = this.of(id)
    into.delivered += delta.delivered
    into.failed += delta.failed
    into.deadLettered += delta.deadLettered
    into.lastError ??= delta.lastError
    into.lastErrorAt ??= delta.lastErrorAt
    into.lastDeliveryAt ??= delta.lastDeliveryAt
  }

  /** Stored counters plus what this process has not written yet. */
  merged(id: string, stored: SubscriptionCounters): SubscriptionCounters {
    const pending = this.deltas.get(id)
    if (pending === undefined) return stored
    const delta = this.finished(id, { ...pending })
    const later = (a: string | undefined, b: string | undefined) =>
      a === undefined ? b : b === undefined || a > b ? a : b
    const errorIsNewer =
      delta.lastErrorAt !== undefined &&
      (stored.lastErrorAt === undefined || delta.lastErrorAt >= stored.lastErrorAt)
    return {
      delivered: stored.delivered + delta.delivered,
      failed: stored.failed + delta.failed,
      deadLettered: stored.deadLettered + delta.deadLettered,
      lastError: errorIsNewer ? delta.lastError : stored.lastError,
      lastErrorAt: later(stored.lastErrorAt, delta.lastErrorAt),
      lastDeliveryAt: later(stored.lastDeliveryAt, delta.lastDeliveryAt),
    }
  }

  /** Forgets a deleted subscription's deltas. */
  forget(id: string): void {
    this.deltas.delete(id)
    this.lastDelivery.delete(id)
  }
}
