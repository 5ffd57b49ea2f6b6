import { transportConformance } from '@switchyard/testkit'
import { createMemoryBroker, memoryTransport } from '../src/index.js'

const features = {
  consumerGroups: true,
  orderedPerKey: true,
  persistent: true,
  replayFromStart: true,
  nativeDelay: true,
}

const broker = createMemoryBroker()
transportConformance('memory', () => memoryTransport({ broker }), {
  features,
  delayToleranceMs: 100,
  timeoutMs: 15_000,
})

const byReference = createMemoryBroker()
transportConformance(
  'memory (pass by reference)',
  () => memoryTransport({ broker: byReference, passByReference: true }),
  {
    features,
    delayToleranceMs: 100,
    timeoutMs: 15_000,
  },
)
