import { redisTransport } from '@switchyard/adapter-redis'
import { serviceOrSkip } from '@switchyard/testkit'
import { wsSuite } from './ws-suite.js'

const REDIS_URL = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379'
const keyPrefix = `sy-test-gateway-ws-${Math.random().toString(36).slice(2, 10)}`
const make = () =>
  redisTransport({ url: REDIS_URL, keyPrefix, connectTimeoutMs: 3_000, maxConnections: 64 })

wsSuite('redis', {
  make,
  skip: () =>
    serviceOrSkip('Redis', async () => {
      const transport = make()
      try {
        await transport.connect()
        const health = await transport.health()
        if (health.status !== 'up') throw new Error(health.detail ?? 'down')
      } finally {
        await transport.close()
      }
    }),
})
