// Publishes `rate` events a second for `seconds` through the bench server's /bare-batch route,
// from a process of its own, so a busy server cannot slow the clock that paces the events. Every
// 10 ms it sends, in one request, the events that have come due; each carries the wall-clock time
// it was due, so time spent waiting for a slow server counts in the delivery latency. Prints
// { published, ms } when done.
const [url, rate, seconds, bytes] = process.argv.slice(2)
const total = Number(rate) * Number(seconds)
const note = 'x'.repeat(Number(bytes))
const origin = performance.timeOrigin
const started = performance.now()
let published = 0
while (published < total) {
  const now = Math.floor(((performance.now() - started) * Number(rate)) / 1_000)
  // At most 1 000 events a request, whatever a slow server let pile up.
  const due = Math.min(total, now, published + 1_000)
  if (due <= published) {
    await new Promise((resolve) => setTimeout(resolve, 10))
    continue
  }
  const events = []
  for (let n = published; n < due; n++) {
    const sent = origin + started + (n * 1_000) / Number(rate)
    events.push({ type: 'bench.tick', data: { sent, note } })
  }
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  })
  if (response.status !== 202) throw new Error(`publish: ${response.status}`)
  published = due
}
process.stdout.write(`${JSON.stringify({ published, ms: performance.now() - started })}\n`)
