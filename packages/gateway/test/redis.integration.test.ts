import { redisTransport } from '@switchyard/adapter-redis'
import { gatewaySuite } from './suite.js'
import { transportOrSkip } from './support.js'

const REDIS_URL = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379'
const keyPrefix = `sy-test-gateway-${Math.random().toString(36).slice(2, 10)}`
// Entries are trimmed after the run's few minutes of need; the prefix keeps them apart.
const make = () => redisTransport({ url: REDIS_URL, keyPrefix, connectTimeoutMs: 3_000 })

gatewaySuite('redis', {
  make,
  skip: () => transportOrSkip('Redis', make),
})
