import { memoryTransport } from '@switchyard/adapter-memory'
import { gatewaySuite } from './suite.js'

gatewaySuite('memory', { make: () => memoryTransport() })
