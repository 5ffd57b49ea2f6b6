import { randomUUID } from 'node:crypto'
import { type ConformanceOptions, transportConformance } from '@switchyard/testkit'
import {
  createMemoryBroker,
  type MemoryTransport,
  type MemoryTransportOptions,
  memoryTransport,
} from '../src/index.js'

/** The suite on a broker of its own, with every transport made as `options` say. */
function memoryConformance(name: string, options: MemoryTransportOptions): void {
  const broker = createMemoryBroker()
  const transports = new Set<MemoryTransport>()
  // Writes straight to the broker, the way a message no bus encoded would arrive.
  const outsider = memoryTransport({ broker })
  const hooks: Partial<ConformanceOptions> = {
    // The memory broker cannot be restarted, but every transport on it can lose its connection:
    // publishes and acks fail, pulls stall, health reports down. That is what a restart looks
    // like to a client, so the broker-restart scenario runs here too.
    restart: async () => {
      for (const transport of transports) transport.faults.disconnect()
      await new Promise((resolve) => setTimeout(resolve, 200))
      for (const transport of transports) transport.faults.reconnect()
    },
    injectRaw: async (topic, { headers = {}, body, key }) => {
      const bytes = typeof body === 'string' ? new Uint8Array(Buffer.from(body)) : body
      await outsider.publish(topic, [{ id: randomUUID(), key, headers, body: bytes }])
      return undefined
    },
    spawnConsumer: { skip: 'the memory broker lives in the test process, a kill takes it along' },
  }
  transportConformance(
    name,
    () => {
      const transport = memoryTransport({ ...options, broker })
      transports.add(transport)
      return transport
    },
    { features: outsider.features, delayToleranceMs: 100, timeoutMs: 15_000, ...hooks },
  )
}

memoryConformance('memory', {})
memoryConformance('memory (pass by reference)', { passByReference: true })
