import { parseArgs } from 'node:util'
import { createEventBus, type EventBus, type Middleware } from '@switchyard/core'
import {
  runHrService,
  startAuditService,
  startDeadLetterMonitor,
  startNotificationService,
  type Tally,
  type Topics,
} from './services.js'
import { TRANSPORTS, type TransportName, transportFactory } from './transports.js'

const USAGE = `Usage: pnpm demo [-- --transport memory|redis|nats|kafka] [--timeout-ms N]

Runs three services on one Switchyard bus: an HR service publishes employee and leave events,
a notification service (group "notifications") and an audit service (group "audit") consume them.
One malformed hire is retried and dead-lettered. Prints a summary and exits 0 when every event
was accounted for.`

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      transport: { type: 'string', default: 'memory' },
      'timeout-ms': { type: 'string', default: '30000' },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) {
    console.log(USAGE)
    return 0
  }
  const transport = values.transport as TransportName
  if (!TRANSPORTS.includes(transport)) {
    console.error(`Unknown transport "${values.transport}". ${USAGE}`)
    return 2
  }
  const timeoutMs = Number(values['timeout-ms'])
  const log = (line: string) => console.log(line)
  const started = performance.now()
  // Broker topics outlive a run: give each run its own, so leftovers never mix in.
  const run = transport === 'memory' ? '' : `.${Date.now().toString(36)}`
  const topics: Topics = { employees: `employees.events${run}`, leaves: `leaves.events${run}` }
  const tally: Tally = { published: 0, handled: {}, retried: 0, deadLettered: 0, deadLetters: [] }

  const make = await transportFactory(transport)
  const middleware: Middleware[] = []
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
  log(`  time           ${ms.toFixed(0)} ms`)
  if (!done()) {
    log(`Not every event was accounted for within ${timeoutMs} ms.`)
    return 1
  }
  return 0
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
