import { transportConformance } from '@switchyard/testkit'
import { createMemoryBroker, type MemoryTransport, memoryTransport } from '../src/index.js'

const features = {
  consumerGroups: true,
  orderedPerKey: true,
  persistent: true,
  replayFromStart: true,
  nativeDelay: true,
}

/**
 * The memory broker cannot be restarted, but every transport on it can lose its connection:
 * publishes and acks fail, pulls stall, health reports down. That is what a restart looks like
 * to a client, so scenario 19 runs here too.
 */
function outage(transports: Set<MemoryTransport>) {
  return async () => {
    for (const transport of transports) transport.faults.disconnect()
    await new Promise((resolve) => setTimeout(resolve, 200))
    for (const transport of transports) transport.faults.reconnect()
  }
}

const broker = createMemoryBroker()
const transports = new Set<MemoryTransport>()
transportConformance(
  'memory',
  () => {
    const transport = memoryTransport({ broker })
    transports.add(transport)
    return transport
  },
  { features, delayToleranceMs: 100, timeoutMs: 15_000, restart: outage(transports) },
)

const byReference = createMemoryBroker()
const byReferenceTransports = new Set<MemoryTransport>()
transportConformance(
  'memory (pass by reference)',
  () => {
    const transport = memoryTransport({ broker: byReference, passByReference: true })
    byReferenceTransports.add(transport)
    return transport
  },
  {
    features,
    delayToleranceMs: 100,
    timeoutMs: 15_000,
    restart: outage(byReferenceTransports),
  },
)
