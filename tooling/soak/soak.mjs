// One soak run on one transport: measure the end-to-end rate, publish at the chosen rate for
// the run's length with a fault every `faultEvery` seconds, sample memory every 10 s, drain,
// and tally what was published, handled, lost and duplicated.
import { setImmediate as nextTurn } from 'node:timers/promises'
import { createEventBus, exponential } from '../../packages/core/dist/index.js'
import { sleep, startBroker } from './brokers.mjs'
import { ConsumerChild } from './consumer-child.mjs'
import { childSample, idOf, Ledger, memorySummary, sampleSelf } from './ledger.mjs'
import { makeTransport } from './transports.mjs'

const TOPIC = 'soak.events'
const GROUP = 'soak'
const SAMPLE_EVERY_MS = 10_000
const MEASURE_MS = 5_000
const MEASURE_WINDOW = 256
const TICK_MS = 50
/** Chance that a handler attempt on the memory transport throws (it is retried). */
const THROW_RATE = 0.002

/** Prints at most 5 log lines per 10 s under `label`, and how many it held back. */
export function limitedLog(out, label) {
  let windowStart = Date.now()
  let printed = 0
  let held = 0
  let total = 0
  const line = (text) => {
    total++
    if (Date.now() - windowStart > 10_000) {
      if (held > 0) out(`    [${label}] ... ${held} more log lines`)
      windowStart = Date.now()
      printed = 0
      held = 0
    }
    if (printed++ < 5) out(`    [${label}] ${text.slice(0, 240)}`)
    else held++
  }
  const write = (level) => (fields, message) => {
    let detail = ''
    try {
      detail = JSON.stringify(fields)
    } catch {}
    line(`${level} ${message ?? ''} ${detail}`)
  }
  const logger = { debug() {}, info() {}, warn: write('warn'), error: write('error') }
  return { logger, line, total: () => total }
}

const clock = (ms) => {
  const s = Math.floor(ms / 1000)
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`
}

/**
 * Runs the soak on `kind`. `options`: minutes, rate (undefined: half the measured end-to-end
 * maximum), faultEvery (s), consumerScript (the bundled consumer), kafkaScript, out.
 */
export async function soak(kind, options) {
  const { out } = options
  const busLog = limitedLog(out, `${kind} soak bus`)
  const childLog = limitedLog(out, `${kind} consumer`)
  let ledger = new Ledger(2_000_000)
  let warmedUp = false
  const onFinished = (id) => {
    if (id.startsWith('soak-')) ledger.handle(Number(id.slice(5)))
    else warmedUp = true
  }

  const broker = kind === 'memory' ? undefined : await startBroker(kind, options.kafkaScript)
  const bus = createEventBus({
    transport: makeTransport(kind, broker?.address),
    source: 'soak',
    logger: busLog.logger,
  })
  const side =
    broker === undefined
      ? memorySide(bus, onFinished)
      : brokerSide(kind, broker, options.consumerScript, onFinished, childLog, out)
  try {
    await side.start()
    if (broker !== undefined) await warmUp(bus, () => warmedUp)

    // Publishing: one `bus.publish` per event; confirmed when it resolves.
    let inFlight = 0
    const publishOne = (seq) => {
      inFlight++
      return bus
        .publish(TOPIC, {
          id: idOf(seq),
          type: 'soak.tick',
          partitionkey: `k${seq % 64}`,
          data: { seq },
        })
        .then(
          () => ledger.confirm(seq),
          (error) => ledger.fail(seq, error),
        )
        .finally(() => inFlight--)
    }

    const measured = await measure(ledger, publishOne, out, kind)
    const rate = options.rate ?? Math.max(1, Math.floor(measured.endToEnd / 2))
    const seconds = options.minutes * 60
    const grown = new Ledger(ledger.next + Math.ceil(rate * (seconds + 5) * 1.05) + 1_000)
    grown.adopt(ledger)
    ledger = grown
    out(
      `  ${kind}: ${rate} events/s for ${options.minutes} min, a fault every ${options.faultEvery} s` +
        (options.rate === undefined ? ' (half the measured end-to-end rate)' : ' (--rate)'),
    )
    if (broker === undefined) {
      out(
        '  memory has no broker and runs in one process: the fault is closing and reopening the ' +
          `subscription with handlers in flight; ${THROW_RATE * 100}% of handler attempts throw and are retried`,
      )
    }

    // The run: pacer, faults, samples.
    const soakSamples = []
    const consumerSamples = []
    const faults = []
    const start = Date.now()
    const minutesNow = () => (Date.now() - start) / 60_000
    const sample = async () => {
      const self = sampleSelf(minutesNow())
      soakSamples.push(self)
      const child = await side.sample()
      if (child !== undefined)
        consumerSamples.push(childSample(minutesNow(), child, side.generation()))
      const c = consumerSamples.at(-1)
      const consumer =
        c === undefined || child === undefined
          ? ''
          : ` | consumer heap ${c.heap.toFixed(1)} MB rss ${c.rss.toFixed(0)} MB`
      out(
        `  [${kind} ${clock(Date.now() - start)}] published ${ledger.confirmed} handled ${ledger.handledDistinct}` +
          ` failed ${ledger.failed} in flight ${inFlight} | soak heap ${self.heap.toFixed(1)} MB rss ${self.rss.toFixed(0)} MB${consumer}`,
      )
    }
    await sample()
    let sent = 0
    let notSent = 0
    let nextSample = SAMPLE_EVERY_MS
    let nextFault = options.faultEvery * 1000
    let fault
    const cap = Math.max(500, rate)
    for (;;) {
      const elapsed = Date.now() - start
      if (elapsed >= seconds * 1000) break
      const target = Math.floor((rate * elapsed) / 1000)
      while (sent < target) {
        const seq = inFlight < cap ? ledger.take() : undefined
        if (seq === undefined) {
          // Back-pressure (a broker down): the events of this tick are not sent at all.
          notSent += target - sent
          sent = target
          break
        }
        void publishOne(seq)
        sent++
      }
      if (elapsed >= nextFault && fault === undefined) {
        nextFault += options.faultEvery * 1000
        const n = faults.length + 1
        const at = clock(elapsed)
        fault = side.fault(n).then(
          (what) => {
            faults.push(`${at} ${what}`)
            out(`  [${kind} ${at}] fault ${n}: ${what}`)
          },
          (error) => {
            faults.push(`${at} fault failed: ${error.message}`)
            out(`  [${kind} ${at}] fault ${n} failed: ${error.message}`)
          },
        )
        void fault.finally(() => {
          fault = undefined
        })
      }
      if (elapsed >= nextSample) {
        nextSample += SAMPLE_EVERY_MS
        await sample()
      }
      await sleep(TICK_MS)
    }
    await sample()
    await fault

    // Drain: let publishes settle, then wait until every confirmed event was handled, or until
    // handling stalls for 60 s (3 minutes at most).
    const drainStart = Date.now()
    while (inFlight > 0 && Date.now() - drainStart < 120_000) await sleep(100)
    let lastHandled = -1
    let lastProgress = Date.now()
    while (Date.now() - drainStart < 180_000) {
      const missing = ledger.missing()
      if (missing === 0) break
      if (ledger.handledDistinct !== lastHandled) {
        lastHandled = ledger.handledDistinct
        lastProgress = Date.now()
      } else if (Date.now() - lastProgress > 60_000) break
      await sleep(250)
    }
    // A moment more for late duplicates of what was in flight at the end.
    await sleep(2_000)
    const tally = ledger.tally()
    out(`  ${kind}: drained in ${((Date.now() - drainStart) / 1000).toFixed(1)} s`)
    return {
      transport: kind,
      rate,
      measured,
      minutes: options.minutes,
      faultEvery: options.faultEvery,
      notSent,
      ...tally,
      handledOutOfRange: ledger.outOfRange,
      faults,
      soakMemory: memorySummary(soakSamples),
      consumerMemory: broker === undefined ? undefined : memorySummary(consumerSamples),
      consumerProcesses: side.generation(),
      logLines: { bus: busLog.total(), consumer: childLog.total() },
    }
  } finally {
    await side.stop().catch(() => undefined)
    await bus.close().catch(() => undefined)
    await broker?.destroy().catch(() => undefined)
  }
}

/** Publishes warm-up events until the consumer handles one (Kafka: its partitions are assigned). */
async function warmUp(bus, warmedUp) {
  const deadline = Date.now() + 90_000
  for (let n = 0; !warmedUp(); n++) {
    if (Date.now() > deadline) throw new Error('the consumer handled no warm-up event in 90 s')
    await bus
      .publish(TOPIC, { id: `warm-${n}`, type: 'soak.warm', data: {} })
      .catch(() => undefined)
    await sleep(250)
  }
}

/** Publishes flat out for 5 s, then waits until all of it is handled: the end-to-end rate. */
async function measure(ledger, publishOne, out, kind) {
  const start = Date.now()
  const deadline = start + MEASURE_MS
  const worker = async () => {
    while (Date.now() < deadline) {
      const seq = ledger.take()
      if (seq === undefined) return
      await publishOne(seq)
    }
  }
  await Promise.all(Array.from({ length: MEASURE_WINDOW }, worker))
  const published = ledger.confirmed
  const publishSeconds = (Date.now() - start) / 1000
  const waitUntil = Date.now() + 120_000
  while (ledger.missing() > 0 && Date.now() < waitUntil) await sleep(20)
  const seconds = (Date.now() - start) / 1000
  const measured = {
    events: published,
    publishRate: Math.round(published / publishSeconds),
    endToEnd: Math.round(ledger.handledDistinct / seconds),
  }
  out(
    `  ${kind}: measured ${measured.publishRate} published/s flat out, ${measured.endToEnd} handled/s end to end (${published} events)`,
  )
  return measured
}

/** Broker transports: a consumer child; faults alternate a broker restart and a SIGKILL. */
function brokerSide(kind, broker, script, onFinished, childLog, out) {
  const spec = {
    topic: TOPIC,
    group: GROUP,
    finishFirst: Number.MAX_SAFE_INTEGER,
    concurrency: 16,
    prefetch: 64,
  }
  const consumer = new ConsumerChild(
    script,
    [kind, broker.address],
    spec,
    onFinished,
    childLog.line,
  )
  const startConsumer = async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await consumer.start()
      } catch (error) {
        if (attempt >= 3) throw error
        out(`  ${kind}: ${error.message}; starting it again`)
        await sleep(2_000)
      }
    }
  }
  return {
    start: startConsumer,
    async fault(n) {
      const t0 = Date.now()
      if (n % 2 === 1) {
        await broker.stop()
        await sleep(3_000)
        const t1 = Date.now()
        await broker.start()
        return `${broker.name} restarted on the same port and data (stopped ${t0 === t1 ? 0 : ((t1 - t0) / 1000).toFixed(1)} s, start took ${((Date.now() - t1) / 1000).toFixed(1)} s)`
      }
      await consumer.kill()
      await startConsumer()
      return `consumer process SIGKILLed, a new one subscribed ${((Date.now() - t0) / 1000).toFixed(1)} s later`
    },
    sample: () => consumer.sample(),
    generation: () => consumer.generation,
    stop: () => consumer.kill(),
  }
}

/** Memory: one process; the fault closes and reopens the subscription with handlers in flight. */
function memorySide(bus, onFinished) {
  let running = 0
  let subscription
  let generation = 1
  const handler = async (event) => {
    running++
    try {
      // Most handlers finish on the next turn, some after a few ms: a close always finds some running.
      if (event.data.seq === undefined || event.data.seq % 50 !== 0) await nextTurn()
      else await sleep(5)
      if (Math.random() < THROW_RATE) throw new Error('soak: this handler fails now and then')
      onFinished(event.id)
    } finally {
      running--
    }
  }
  const subscribe = async () => {
    subscription = await bus.subscribe(TOPIC, handler, {
      group: GROUP,
      concurrency: 16,
      retry: { maxAttempts: 10, backoff: exponential({ baseMs: 5, maxMs: 200 }) },
    })
  }
  return {
    start: subscribe,
    async fault() {
      const t0 = Date.now()
      const inFlight = running
      await subscription.close()
      await subscribe()
      generation++
      return `subscription closed with ${inFlight} handlers in flight and reopened (${Date.now() - t0} ms)`
    },
    sample: async () => undefined,
    generation: () => generation,
    stop: () => subscription?.close() ?? Promise.resolve(),
  }
}
