import { createEventBus, type EventBus, type Middleware } from '@switchyard/core'
import { runOutboxDemo } from './outbox-demo.js'
import {
  runHrService,
  startAuditService,
  startDeadLetterMonitor,
  startNotificationService,
  type Tally,
  type Topics,
} from './services.js'
import { type TransportName, transportFactory } from './transports.js'

/** Options of one demo run. */
export interface DemoOptions {
  /** Which transport carries the events. */
  transport: TransportName
  /** Give up waiting for every event after this long. */
  timeoutMs: number
  /** Where lines go. */
  log: (line: string) => void
  /** Extra middleware for every bus (tracing, metrics). */
  middleware?: Middleware[]
  /** Also show the transactional outbox on PGlite. @default true */
  outbox?: boolean
}

/** What one run did. */
export interface DemoResult {
  /** Every event accounted for (and the outbox part, when on, published what was committed). */
  ok: boolean
  tally: Tally
  outbox: { committed: number; rolledBack: number; published: number } | undefined
  ms: number
}

/** Runs the three services until every event is accounted for; resolves with the tally. */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { transport, timeoutMs, log } = options
  const started = performance.now()
  // Broker topics outlive a run: give each run its own, so leftovers never mix in.
  const run = transport === 'memory' ? '' : `.${Date.now().toString(36)}`
  const topics: Topics = { employees: `employees.events${run}`, leaves: `leaves.events${run}` }
  const tally: Tally = { published: 0, handled: {}, retried: 0, deadLettered: 0, deadLetters: [] }

  const make = await transportFactory(transport)
  const middleware = options.middleware ?? []
  const bus = (source: string): EventBus =>
    createEventBus({
      transport: make(),
      source,
      middleware,
      hooks: {
        onRetry: () => void tally.retried++,
        onError: (error, where) => log(`  ! ${source} ${where}: ${error.message}`),
      },
    })
  const hr = bus('hr-service')
  const notifications = bus('notification-service')
  const audit = bus('audit-service')
  const monitor = bus('dlq-monitor')
  log(`Switchyard demo on the ${transport} transport`)
  await startNotificationService(notifications, topics, tally, log)
  await startAuditService(audit, topics, tally)
  await startDeadLetterMonitor(monitor, topics, tally, log)
  await runHrService(hr, topics, tally)

  const expected = tally.published
  const deadline = Date.now() + timeoutMs
  const done = () =>
    (tally.handled.audit ?? 0) >= expected &&
    (tally.handled.notifications ?? 0) + tally.deadLettered >= expected &&
    tally.deadLettered >= 1
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  let outbox: DemoResult['outbox']
  if (options.outbox ?? true) {
    log('')
    log('Transactional outbox (PGlite, in memory)')
    outbox = await runOutboxDemo(hr, log)
  }
  await Promise.all([hr, notifications, audit, monitor].map((b) => b.close()))
  const ms = performance.now() - started

  log('')
  log('Summary')
  log(`  published      ${tally.published}`)
  log(
    `  handled        notifications ${tally.handled.notifications ?? 0}, audit ${tally.handled.audit ?? 0}`,
  )
  log(`  retried        ${tally.retried}`)
  log(`  dead-lettered  ${tally.deadLettered} (${tally.deadLetters.join(', ')})`)
  if (outbox !== undefined) {
    log(
      `  outbox         ${outbox.committed} committed, ${outbox.rolledBack} rolled back, ${outbox.published} relayed`,
    )
  }
  log(`  time           ${ms.toFixed(0)} ms`)
  const outboxOk = outbox === undefined || outbox.published === outbox.committed
  if (!done()) log(`Not every event was accounted for within ${timeoutMs} ms.`)
  return { ok: done() && outboxOk, tally, outbox, ms }
}
