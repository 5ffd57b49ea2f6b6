export { MemoryBroker } from './broker.js'
export { MemoryFaults } from './faults.js'
export type { MemoryTransportOptions } from './options.js'
export { createMemoryBroker, MemoryTransport, memoryTransport } from './transport.js'
