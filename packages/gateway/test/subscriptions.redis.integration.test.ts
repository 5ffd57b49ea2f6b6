import { redisTransport } from '@switchyard/adapter-redis'
import { subscriptionSuite } from './subscriptions-suite.js'
import { transportOrSkip } from './support.js'

const REDIS_URL = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379'
const keyPrefix = `sy-test-gwsub-${Math.random().toString(36).slice(2, 10)}`
const make = () => redisTransport({ url: REDIS_URL, keyPrefix, connectTimeoutMs: 3_000 })

subscriptionSuite('redis', { make, skip: () => transportOrSkip('Redis', make) })
