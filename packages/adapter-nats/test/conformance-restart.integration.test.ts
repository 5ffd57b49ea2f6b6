import { serviceOrSkip, transportConformance } from '@switchyard/testkit'
import { afterAll } from 'vitest'
import { natsTransport } from '../src/index.js'
import { PrivateServer } from './nats-server.js'

// The whole suite again, on a nats-server of this file's own, so the reconnect scenario can
// restart it (the shared server on 4222 is never stopped).
let server: PrivateServer | undefined
const skip = await serviceOrSkip('a private nats-server', async () => {
  server = await PrivateServer.start()
})

transportConformance(
  'nats (private server, restarted)',
  () => natsTransport({ servers: server!.url, ackWaitMs: 5_000 }),
  {
    skip,
    features: natsTransport().features,
    delayToleranceMs: 250,
    timeoutMs: 60_000,
    restart: () => server!.restart(),
  },
)

afterAll(() => server?.dispose())
