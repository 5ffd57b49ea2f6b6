import { createMemoryBroker, memoryTransport } from '@switchyard/adapter-memory'
import { deadLetterSuite } from './dead-letters-suite.js'

const broker = createMemoryBroker()
deadLetterSuite('memory', { make: () => memoryTransport({ broker }) })
