import { memoryTransport } from '@switchyard/adapter-memory'
import { subscriptionSuite } from './subscriptions-suite.js'

subscriptionSuite('memory', { make: () => memoryTransport() })
