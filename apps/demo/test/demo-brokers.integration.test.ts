import { connect } from 'node:net'
import { serviceOrSkip } from '@switchyard/testkit'
import { describe, it } from 'vitest'
import { runDemo } from '../src/demo.js'
import { expectDemoTally } from './expect-demo.js'

// The same demo on every real broker, through the adapters' own fromEnv(): the test points the
// conventional variables at the SWITCHYARD_* addresses the other broker suites use.
const brokers = [
  {
    name: 'redis' as const,
    env: 'REDIS_URL',
    address: process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379',
  },
  {
    name: 'nats' as const,
    env: 'NATS_URL',
    address: process.env.SWITCHYARD_NATS_URL ?? 'nats://127.0.0.1:4222',
  },
  {
    name: 'kafka' as const,
    env: 'KAFKA_BOOTSTRAP_SERVERS',
    address: process.env.SWITCHYARD_KAFKA_BROKERS ?? '127.0.0.1:9092',
  },
]

/** Resolves once something accepts a TCP connection at the address's host and port. */
function reachable(address: string): Promise<void> {
  const { hostname, port } = new URL(address.includes('://') ? address : `tcp://${address}`)
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) })
    socket.once('connect', () => {
      socket.destroy()
      resolve()
    })
    socket.once('error', reject)
  })
}

for (const broker of brokers) {
  const skip = await serviceOrSkip(broker.name, () => reachable(broker.address))
  describe.skipIf(skip !== undefined)(`demo on ${broker.name}`, () => {
    it(`demo - --transport ${broker.name} handles every event and dead-letters the malformed hire`, async () => {
      const saved = process.env[broker.env]
      process.env[broker.env] = broker.address
      try {
        const lines: string[] = []
        const result = await runDemo({
          transport: broker.name,
          timeoutMs: 60_000,
          outbox: false,
          log: (l) => void lines.push(l),
        })
        expectDemoTally(result, lines)
      } finally {
        if (saved === undefined) delete process.env[broker.env]
        else process.env[broker.env] = saved
      }
    }, 90_000)
  })
}
