import { parseArgs } from 'node:util'
import { runDemo } from './demo.js'
import { setupOtel } from './otel-setup.js'
import { TRANSPORTS, type TransportName } from './transports.js'

const USAGE = `Usage: pnpm demo [-- --transport memory|redis|nats|kafka] [--otel] [--metrics-port N]
                 [--otlp-endpoint URL] [--no-outbox] [--timeout-ms N]

Runs three services on one Switchyard bus: an HR service publishes employee and leave events,
a notification service (group "notifications") and an audit service (group "audit") consume them.
One malformed hire is retried and dead-lettered. Prints a summary and exits 0 when every event
was accounted for. --otel prints the span tree of the run; --metrics-port serves Prometheus text
at /metrics until Ctrl-C. The outbox part (PGlite) runs unless --no-outbox.`

async function main(): Promise<number> {
  const { values } = parseArgs({
    // `pnpm demo -- --flag` passes the `--` along; it is not an argument.
    args: process.argv.slice(2).filter((arg) => arg !== '--'),
    options: {
      transport: { type: 'string', default: 'memory' },
      'timeout-ms': { type: 'string', default: '30000' },
      otel: { type: 'boolean', default: false },
      'metrics-port': { type: 'string' },
      'otlp-endpoint': { type: 'string' },
      'no-outbox': { type: 'boolean', default: false },
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
  const log = (line: string) => console.log(line)
  const metricsPort =
    values['metrics-port'] === undefined ? undefined : Number(values['metrics-port'])
  const otlpEndpoint = values['otlp-endpoint'] ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT
  const otel =
    values.otel || metricsPort !== undefined || values['otlp-endpoint'] !== undefined
      ? setupOtel({
          serviceName: 'switchyard-demo',
          ...(metricsPort === undefined ? {} : { metricsPort }),
          ...(otlpEndpoint === undefined ? {} : { otlpEndpoint }),
        })
      : undefined
  const result = await runDemo({
    transport,
    timeoutMs: Number(values['timeout-ms']),
    log,
    outbox: !values['no-outbox'],
    ...(otel === undefined ? {} : { middleware: otel.middleware }),
  })
  if (otel !== undefined) {
    otel.printSummary(log)
    if (metricsPort !== undefined) {
      log(`Metrics at http://127.0.0.1:${metricsPort}/metrics — Ctrl-C to stop`)
      await new Promise((resolve) => process.once('SIGINT', resolve))
    }
    await otel.shutdown()
  }
  return result.ok ? 0 : 1
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
