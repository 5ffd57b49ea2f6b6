import { redisTransport } from '@switchyard/adapter-redis'
import { Redis } from 'ioredis'
import { cliBrokerSuite } from './broker-suite.js'
import { REDIS_URL } from './support.js'

cliBrokerSuite(
  {
    name: 'redis',
    url: REDIS_URL,
    transport: () => redisTransport({ url: REDIS_URL }),
    groupless: true,
  },
  async () => {
    const client = new Redis(REDIS_URL, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    })
    client.on('error', () => undefined)
    try {
      await client.connect()
      await client.ping()
    } finally {
      client.disconnect()
    }
  },
)
