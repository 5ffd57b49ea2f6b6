import { redisTransport } from '@switchyard/adapter-redis'
import { transportOrSkip } from './support.js'
import { wsSuite } from './ws-suite.js'

const REDIS_URL = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379'
const keyPrefix = `sy-test-gateway-ws-${Math.random().toString(36).slice(2, 10)}`
const make = () =>
  redisTransport({ url: REDIS_URL, keyPrefix, connectTimeoutMs: 3_000, maxConnections: 64 })

wsSuite('redis', {
  make,
  skip: () => transportOrSkip('Redis', make),
})
