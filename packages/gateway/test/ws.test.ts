import { memoryTransport } from '@switchyard/adapter-memory'
import { wsSuite } from './ws-suite.js'

wsSuite('memory', { make: () => memoryTransport() })
