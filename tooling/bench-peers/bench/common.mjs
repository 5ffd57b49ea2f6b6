// Shared by the peer benches: a moleculer broker with @moleculer/channels, the exactly-once
// ledger every consume run checks, latency percentiles with p90, and the rows both files print.
import channels from '@moleculer/channels'
import moleculer from 'moleculer'
import { bestOfRounds, cpuRow as cpuRowOf, firstToLast, inTurns, now } from '../../bench/pacing.mjs'

export { cpuPerEvent, windowed } from '../../bench/pacing.mjs'

export const data = { employee_id: 'emp_123', note: 'x'.repeat(1_000 - 40) }
export const PEER = '@moleculer/channels 0.1.8 on moleculer 0.14'

let brokers = 0

/** A moleculer broker whose only middleware is Channels on `adapter`, logging off. */
export function peerBroker(adapter) {
  return new moleculer.ServiceBroker({
    nodeID: `sy-bench-${process.pid}-${++brokers}`,
    logger: false,
    middlewares: [channels.Middleware({ adapter })],
  })
}

/**
 * Counts deliveries per event number: `done` resolves once each of `count` events was handled,
 * `check()` (after a grace period for late duplicates) throws unless every one was handled
 * exactly once. Times first to last handled, as the adapter benches do.
 */
export function ledger(count, label, timeoutMs = 120_000) {
  const seen = new Uint8Array(count)
  const clock = firstToLast(count)
  let duplicates = 0
  let stray = 0
  const timer = new Promise((_, reject) => {
    const t = setTimeout(() => reject(new Error(`${label}: not every event arrived`)), timeoutMs)
    clock.done.then(() => clearTimeout(t))
  })
  return {
    handle(seq) {
      if (!Number.isInteger(seq) || seq < 0 || seq >= count) stray++
      else if (seen[seq]++ === 0) clock.tick()
      else duplicates++
    },
    done: Promise.race([clock.done, timer]),
    get rate() {
      return clock.rate
    },
    async check() {
      await new Promise((resolve) => setTimeout(resolve, 200))
      const missing = seen.reduce((n, c) => n + (c === 0 ? 1 : 0), 0)
      if (missing + duplicates + stray > 0) {
        throw new Error(`${label}: ${missing} missing, ${duplicates} duplicates, ${stray} stray`)
      }
    },
  }
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]

/** p50, p90 and p99, leaving out the first tenth (warm-up), as pacing.mjs's `summary`. */
export function percentiles(latencies) {
  const sorted = latencies.slice(Math.floor(latencies.length / 10)).sort((a, b) => a - b)
  return {
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
  }
}

/**
 * The rows of one broker: publish, consume tuned and with defaults, latency. `sides` gives, per
 * side (`ours`, `peer`): `publish(count, window)`, `consume(count, tuned)` (both resolve with a
 * rate and check exactly-once themselves) and `latency()` setup returning `{ send, received,
 * close }`.
 */
export async function peerRows({ report, quick, broker, sides, labels }) {
  const count = quick ? 5_000 : 20_000
  // The peer's default maxInFlight is 1: a few hundred events per second, so fewer events.
  const defaultsCount = quick ? 500 : 2_000
  const rounds = quick ? 2 : 5
  const cpu = { peer: [], ours: [] }
  const publish = await bestOfRounds(rounds, {
    peer: () => sides.peer.publish(count, 256, cpu.peer),
    ours: () => sides.ours.publish(count, 256, cpu.ours),
  })
  report({
    scenario: `${broker} publish vs peer, 1 KB events, 256 in flight`,
    unit: 'events/s',
    ours: publish.ours,
    raw: publish.peer,
    rawLabel: `${PEER}, sendToChannel, 256 in flight`,
    target: '> 1x peer',
  })
  report(cpuRow(`${broker} publish client CPU per event vs peer, 256 in flight`, cpu))
  for (const tuned of [true, false]) {
    const n = tuned ? count : defaultsCount
    const consumeCpu = { peer: [], ours: [] }
    const best = await bestOfRounds(tuned ? rounds : Math.min(rounds, 3), {
      peer: () => sides.peer.consume(n, tuned, consumeCpu.peer),
      ours: () => sides.ours.consume(n, tuned, consumeCpu.ours),
    })
    report({
      scenario: `${broker} consume vs peer, 1 KB events, ${tuned ? `tuned (${labels.tuned})` : 'defaults'}, each once`,
      unit: 'events/s',
      ours: best.ours,
      raw: best.peer,
      rawLabel: `${PEER}, ${tuned ? 'maxInFlight 100' : 'default options'}`,
      target: '> 1x peer',
    })
    if (tuned) report(cpuRow(`${broker} consume client CPU per event vs peer, tuned`, consumeCpu))
  }
  const seconds = quick ? 2 : 10
  const ours = await sides.ours.latency()
  const peer = await sides.peer.latency()
  const total = await inTurns(1_000, seconds, [(t) => peer.send(t), (t) => ours.send(t)])
  const deadline = Date.now() + 30_000
  while ((ours.received.length < total || peer.received.length < total) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 10))
  await Promise.all([ours.close(), peer.close()])
  for (const [name, side] of [
    ['ours', ours],
    ['peer', peer],
  ]) {
    if (side.received.length !== total || new Set(side.seqs).size !== total)
      throw new Error(`${broker} latency, ${name}: ${side.received.length} of ${total} handled`)
  }
  const o = percentiles(ours.received)
  const p = percentiles(peer.received)
  for (const q of ['p50', 'p90', 'p99']) {
    report({
      scenario: `${broker} latency vs peer ${q} at 1 000 events/s`,
      unit: 'ms',
      ours: o[q],
      raw: p[q],
      rawLabel: `${PEER}, maxInFlight 100`,
      higherIsBetter: false,
      target: q === 'p50' ? '' : '< 1x peer',
    })
  }
}

/** Client CPU per event of both sides (µs); for the record, no target. */
const cpuRow = (scenario, cpu) =>
  cpuRowOf({ scenario, ours: cpu.ours, other: cpu.peer, rawLabel: PEER })

/** Latency recorder of one side: `record(event data)` from the handler. */
export function latencyRecorder() {
  const received = []
  const seqs = []
  return {
    received,
    seqs,
    record(payload) {
      received.push(now() - payload.sentAt)
      seqs.push(payload.seq)
    },
  }
}
