// Shared by the broker benches: a fixed-rate publisher, latency percentiles, a consume clock and
// best-of rounds.

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
  // The last event went out up to one gap early: wait out the period, so back-to-back calls
  // (the turns of `inTurns`) keep the rate.
  const rest = start + seconds * 1_000 - now()
  if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest))
}

/**
 * Runs fixed-rate publishers in turns of `slice` seconds each until every one has run for
 * `seconds`; resolves with the events each sent. Turns are short so that machine noise that
 * lasts longer than one (CPU steal on a shared VM, a busy broker) lands on every side alike,
 * while the load stays `rate` at any moment.
 */
export async function inTurns(rate, seconds, sends, slice = SLICE_SECONDS) {
  const turns = Math.max(1, Math.round(seconds / slice))
  for (let turn = 0; turn < turns; turn++) for (const send of sends) await paced(rate, slice, send)
  return Math.round(rate * slice) * turns
}

/** Length of one turn in `inTurns`. */
export const SLICE_SECONDS = 0.1

/** Resolves once every list holds `count` entries, or after `timeoutMs`. */
export async function collected(lists, count, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  while (lists.some((list) => list.length < count) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]

/** p50 and p99 of latencies, leaving out the first tenth (warm-up). */
export function summary(latencies) {
  const sorted = latencies.slice(Math.floor(latencies.length / 10)).sort((a, b) => a - b)
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) }
}

/**
 * Counts `count` handled events and times them from the first to the last, so what comes before
 * the first event (a consumer or group created, a group join) is setup on both sides of a
 * comparison. Call `tick()` once per event; `done` resolves once all were counted.
 */
export function firstToLast(count) {
  let handled = 0
  let first = 0
  let last = 0
  let finish
  const done = new Promise((resolve) => {
    finish = resolve
  })
  return {
    done,
    tick() {
      if (handled === 0) first = performance.now()
      if (++handled === count) {
        last = performance.now()
        finish()
      }
    },
    /** `performance.now()` of the first event, 0 before it. */
    get first() {
      return first
    },
    /** Events per second between the first event and the last (after `done`). */
    get rate() {
      return (count - 1) / ((last - first) / 1_000)
    },
  }
}

/**
 * Best result of each side over `rounds` rounds in which every side runs once, so machine noise
 * hits all alike. `sides` maps names to runs resolving with a rate. The side that goes first
 * moves on by one each round, so none always follows the same one.
 */
export async function bestOfRounds(rounds, sides) {
  const names = Object.keys(sides)
  const best = Object.fromEntries(names.map((name) => [name, 0]))
  for (let i = 0; i < rounds; i++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(i + j) % names.length]
      best[name] = Math.max(best[name], await sides[name]())
    }
  }
  return best
}

/**
 * Runs `run` (the measured part of one side) and pushes its client CPU time (user + system) per
 * event, in µs, to `into` when given; garbage of the previous side is collected first, so it is
 * not billed to this one.
 */
export async function cpuPerEvent(into, count, run) {
  globalThis.gc?.()
  const start = process.cpuUsage()
  const result = await run()
  const used = process.cpuUsage(start)
  into?.push((used.user + used.system) / count)
  return result
}

/** `count` calls of `send(seq)`, `window` in flight at a time; calls per second. */
export async function windowed(count, window, send) {
  const started = performance.now()
  for (let sent = 0; sent < count; sent += window) {
    const calls = []
    for (let i = 0; i < window && sent + i < count; i++) calls.push(send(sent + i))
    await Promise.all(calls)
  }
  return count / ((performance.now() - started) / 1_000)
}

/**
 * A row of client CPU per event (µs): the lowest of the rounds on each side, `ours` beside
 * `other` (the raw client or the peer); fewer is better.
 */
export function cpuRow({ scenario, ours, other, rawLabel, target }) {
  return {
    scenario,
    unit: 'µs/event',
    ours: Math.min(...ours),
    raw: Math.min(...other),
    rawLabel,
    higherIsBetter: false,
    ...(target === undefined ? {} : { target }),
  }
}
