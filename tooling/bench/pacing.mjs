// Shared by the broker benches: a fixed-rate publisher and latency percentiles.

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export const now = () => performance.timeOrigin + performance.now()

/** Publishes at `rate` events/s for `seconds`, calling `send(sentAt)`; resolves when all were sent. */
export async function paced(rate, seconds, send) {
  const total = Math.round(rate * seconds)
  const start = now()
  let sent = 0
  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - start) / 1_000) * rate) + 1)
    while (sent < due) {
      sent++
      void send(now())
    }
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]

/** p50 and p99 of latencies, leaving out the first tenth (warm-up). */
export function summary(latencies) {
  const sorted = latencies.slice(Math.floor(latencies.length / 10)).sort((a, b) => a - b)
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) }
}
