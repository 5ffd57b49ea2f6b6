import { createEventBus, type Middleware } from '@switchyard/core'
import { otelMiddleware } from '@switchyard/otel'
import { mintToken } from '../auth.js'
import { createGateway } from '../create-gateway.js'
import { prometheusMetrics } from '../metrics.js'
import { openStateStore } from '../state/open-store.js'
import type { BinConfig } from './config.js'
import { readStreamsFile } from './streams-file.js'
import { transportFromEnv } from './transport.js'

/** Starts the gateway of the configuration and stops it on SIGINT/SIGTERM. */
export async function serve(config: BinConfig): Promise<void> {
  const transport = await transportFromEnv(config.transport)
  const metrics = config.metrics ? prometheusMetrics({ traces: config.tracing }) : undefined
  const middleware: Middleware[] = []
  if (metrics !== undefined) middleware.push(metrics.middleware)
  else if (config.tracing) middleware.push(otelMiddleware({ metrics: false }))
  const bus = createEventBus({ transport, source: 'switchyard-gateway', middleware })
  const auth =
    config.jwksUrl !== undefined
      ? { jwksUrl: config.jwksUrl, algorithm: config.algorithm, tenantClaim: config.tenantClaim }
      : { secret: config.secret!, algorithm: config.algorithm, tenantClaim: config.tenantClaim }
  const state = await openStateStore({
    databaseUrl: config.databaseUrl,
    dataDir: `${config.dataDir}/pglite`,
  })
  const app = await createGateway({
    bus,
    auth,
    state,
    rateLimit: config.rateLimit,
    bodyLimit: config.bodyLimit,
    metrics,
    logLevel: config.logLevel,
    streams: config.streamsFile === undefined ? [] : await readStreamsFile(config.streamsFile),
    subscriptions: { webhooks: { allowNetworks: config.webhookAllowNetworks } },
  })
  const url = await app.listen({ host: config.host, port: config.port })
  const out = process.stdout
  out.write(
    `switchyard-gateway listening on ${url} (transport ${transport.name}, state ${state.kind})\n`,
  )
  if (config.generatedSecret) {
    const token = await mintToken({
      secret: config.secret!,
      roles: ['admin'],
      subject: 'switchyard-gateway-admin',
      expirationHours: config.expirationHours,
      tenantClaim: config.tenantClaim,
    })
    // Printed once on the terminal that started a local gateway, never through the logger.
    out.write(`No JWT_SECRET_KEY set: generated one in ${config.dataDir}/jwt-secret\n`)
    out.write(`Admin token (${config.expirationHours} h):\n${token}\n`)
    out.write(`Try: curl -H "Authorization: Bearer <token>" ${url}/api/v1/status\n`)
  }
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    app.log.info({ signal }, 'closing: draining the bus')
    app.close().then(
      () => process.exit(0),
      (error: Error) => {
        process.stderr.write(`switchyard-gateway: close failed: ${error.message}\n`)
        process.exit(1)
      },
    )
  }
  process.once('SIGINT', () => stop('SIGINT'))
  process.once('SIGTERM', () => stop('SIGTERM'))
}
