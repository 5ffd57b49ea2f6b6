// What the soak counts: per event sequence number, whether its publish was confirmed and how
// often a handler finished it; memory samples and their least-squares slopes. Typed arrays
// sized once and written through at the start, so the ledger itself does not grow the heap or
// the RSS the soak measures.

const UNSENT = 0
const CONFIRMED = 1
const FAILED = 2

/** Event id of sequence number `seq`; `seqOf` reads it back (NaN for other ids). */
export const idOf = (seq) => `soak-${seq}`
export const seqOf = (id) => (id.startsWith('soak-') ? Number(id.slice(5)) : Number.NaN)

/** Publishes and handlings per sequence number. */
export class Ledger {
  constructor(capacity) {
    this.capacity = capacity
    this.state = new Uint8Array(capacity).fill(UNSENT)
    this.handled = new Uint8Array(capacity).fill(0)
    this.next = 0
    this.confirmed = 0
    this.failed = 0
    this.handledDistinct = 0
    this.extraDeliveries = 0
    this.outOfRange = 0
    /** First few publish failures by message, with counts. */
    this.failures = new Map()
  }

  /** Takes over what a smaller ledger counted so far (the rate measurement's). */
  adopt(previous) {
    this.state.set(previous.state.subarray(0, previous.next))
    this.handled.set(previous.handled.subarray(0, previous.next))
    for (const key of ['next', 'confirmed', 'failed', 'handledDistinct', 'extraDeliveries']) {
      this[key] = previous[key]
    }
    this.outOfRange = previous.outOfRange
    this.failures = previous.failures
  }

  /** The next sequence number, or undefined when the ledger is full (the pacer then stops). */
  take() {
    return this.next < this.capacity ? this.next++ : undefined
  }

  confirm(seq) {
    this.state[seq] = CONFIRMED
    this.confirmed++
  }

  fail(seq, error) {
    this.state[seq] = FAILED
    this.failed++
    const key = `${error?.name ?? 'Error'}: ${error?.message ?? String(error)}`.slice(0, 160)
    if (this.failures.has(key)) this.failures.set(key, this.failures.get(key) + 1)
    else if (this.failures.size < 8) this.failures.set(key, 1)
  }

  /** A handler finished the event with sequence number `seq`. */
  handle(seq) {
    if (!(seq >= 0 && seq < this.next)) {
      this.outOfRange++
      return
    }
    const count = this.handled[seq]
    if (count === 0) this.handledDistinct++
    else this.extraDeliveries++
    if (count < 255) this.handled[seq] = count + 1
  }

  /** Confirmed events no handler finished yet. */
  missing() {
    let missing = 0
    for (let seq = 0; seq < this.next; seq++) {
      if (this.state[seq] === CONFIRMED && this.handled[seq] === 0) missing++
    }
    return missing
  }

  /** The final counts; `lostIds` lists the first 20 lost event ids as evidence. */
  tally() {
    let lost = 0
    let duplicated = 0
    let handledUnconfirmed = 0
    let unsettled = 0
    const lostIds = []
    for (let seq = 0; seq < this.next; seq++) {
      const state = this.state[seq]
      const count = this.handled[seq]
      if (count > 1) duplicated++
      if (state === CONFIRMED && count === 0) {
        lost++
        if (lostIds.length < 20) lostIds.push(idOf(seq))
      }
      if (state !== CONFIRMED && count > 0) handledUnconfirmed++
      if (state === UNSENT) unsettled++
    }
    return {
      published: this.confirmed,
      publishFailed: this.failed,
      publishUnsettled: unsettled,
      handled: this.handledDistinct,
      handledUnconfirmed,
      lost,
      lostIds,
      duplicated,
      extraDeliveries: this.extraDeliveries,
      failures: [...this.failures].map(([message, count]) => ({ message, count })),
    }
  }
}

const MB = 1024 * 1024

/**
 * Least-squares slope of `y` over `t`, pooled within groups: each group (one consumer process
 * between two kills) gets its own intercept, so a restart's drop to a fresh heap is not read as
 * a trend. With one group it is the plain least-squares slope.
 */
export function pooledSlope(samples, key) {
  const groups = new Map()
  for (const s of samples) {
    const list = groups.get(s.group ?? 0) ?? []
    list.push(s)
    groups.set(s.group ?? 0, list)
  }
  let num = 0
  let den = 0
  for (const list of groups.values()) {
    const tBar = list.reduce((sum, s) => sum + s.minutes, 0) / list.length
    const yBar = list.reduce((sum, s) => sum + s[key], 0) / list.length
    for (const s of list) {
      num += (s.minutes - tBar) * (s[key] - yBar)
      den += (s.minutes - tBar) ** 2
    }
  }
  return den === 0 ? Number.NaN : num / den
}

/**
 * Start, end and slope (MB/min) of heap and RSS over `samples` ({ minutes, heap, rss } in MB).
 * In runs of 3 minutes or more the first minute is warm-up (the rate measurement's burst, JIT,
 * connection pools) and left out; `all` has the slopes over every sample.
 */
export function memorySummary(samples) {
  const steady =
    (samples.at(-1)?.minutes ?? 0) >= 3 ? samples.filter((s) => s.minutes >= 1) : samples
  const first = steady[0]
  const last = steady.at(-1)
  return {
    samples: steady.length,
    fromMinute: first?.minutes,
    heapStart: first?.heap,
    heapEnd: last?.heap,
    heapSlope: pooledSlope(steady, 'heap'),
    rssStart: first?.rss,
    rssEnd: last?.rss,
    rssSlope: pooledSlope(steady, 'rss'),
    all: { heapSlope: pooledSlope(samples, 'heap'), rssSlope: pooledSlope(samples, 'rss') },
  }
}

/** A memory sample of this process after a full GC (node must run with --expose-gc). */
export function sampleSelf(minutes) {
  globalThis.gc?.()
  const { heapUsed, rss } = process.memoryUsage()
  return { minutes, heap: heapUsed / MB, rss: rss / MB }
}

/** Converts a child's `{ heapUsed, rss }` report into a sample. */
export const childSample = (minutes, report, group) => ({
  minutes,
  heap: report.heapUsed / MB,
  rss: report.rss / MB,
  group,
})
