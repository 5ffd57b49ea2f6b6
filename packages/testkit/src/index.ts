export { transportConformance } from './conformance.js'
export type { ConsumerProcess, ConsumerProcessOptions } from './consumer-process.js'
export { startConsumerProcess } from './consumer-process.js'
export type { ConsumerSpec } from './consumer-protocol.js'
export { CONSUMER_SPEC_ENV } from './consumer-protocol.js'
export type {
  ConformanceOptions,
  RawMessage,
  RestartableBroker,
  TransportFactory,
} from './harness.js'
export type { EventRecorder, PublishedRecord, TestBus } from './test-bus.js'
export { createTestBus, recordEvents, waitFor } from './test-bus.js'
export { serviceOrSkip, sparePort, waitUntil } from './wait.js'
