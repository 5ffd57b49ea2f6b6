export { transportConformance } from './conformance.js'
export type {
  ConsumerProcess,
  ConsumerProcessOptions,
  ConsumerSpec,
} from './consumer-process.js'
export { CONSUMER_SPEC_ENV, startConsumerProcess } from './consumer-process.js'
export type {
  ConformanceOptions,
  RawMessage,
  RestartableBroker,
  TransportFactory,
} from './harness.js'
export type { EventRecorder, PublishedRecord, TestBus } from './test-bus.js'
export { createTestBus, recordEvents, waitFor } from './test-bus.js'
export { serviceOrSkip, sparePort, waitUntil } from './wait.js'
