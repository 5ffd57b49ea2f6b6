import { parseArgs } from 'node:util'
import { runDemo } from './demo.js'
import { TRANSPORTS, type TransportName } from './transports.js'

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
  const result = await runDemo({
    transport,
    timeoutMs: Number(values['timeout-ms']),
    log: (line) => console.log(line),
  })
  return result.ok ? 0 : 1
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
