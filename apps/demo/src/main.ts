import { parseArgs } from 'node:util'
import { runDemo } from './demo.js'
import { setupOtel } from './otel-setup.js'
import { serveConsole } from './serve.js'
import { TRANSPORTS, type TransportName } from './transports.js'

const USAGE = `Usage: pnpm demo [-- --transport memory|redis|nats|kafka] [--otel] [--metrics-port N]
                 [--otlp-endpoint URL] [--no-outbox] [--timeout-ms N]
       pnpm demo -- --serve [--transport ...] [--port N]

Runs three services on one Switchyard bus: an HR service publishes employee and leave events,
a notification service (group "notifications") and an audit service (group "audit") consume them.
One malformed hire is retried and dead-lettered. Prints a summary and exits 0 when every event
was accounted for. --otel prints the span tree of the run; --metrics-port serves Prometheus text
at /metrics until Ctrl-C. The outbox part (PGlite) runs unless --no-outbox.

--serve keeps the services running with the gateway and its web console on their bus (port 8080
by default) and prints the console's URL and a token to log in with, until Ctrl-C.`

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
      serve: { type: 'boolean', default: false },
      port: { type: 'string', default: '8080' },
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
  if (values.serve) return serve(transport, Number(values.port), log)
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

/** `--serve`: the console on the demo's bus until SIGINT or SIGTERM. */
async function serve(
  transport: TransportName,
  port: number,
  log: (line: string) => void,
): Promise<number> {
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`--port must be a port number, got "${port}"`)
    return 2
  }
  const demo = await serveConsole({ transport, host: '127.0.0.1', port })
  log(`Switchyard demo on the ${transport} transport, serving the console`)
  log('')
  log(`  Console   ${demo.consoleUrl}`)
  log(`  Token     ${demo.operatorToken}`)
  log('            (admin of every tenant, 24 h; paste it on the console login page)')
  log(`  Tenant    ${demo.tenantToken}`)
  log('            (tenant "olive", admin of employees.** only: see what it is refused)')
  log('')
  log('The HR service publishes through the gateway twice a second; every seventh welcome mail')
  log('is dead-lettered (replay it from the Dead letters page). Ctrl-C to stop.')
  await new Promise((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  await demo.stop()
  return 0
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
