import { redisTransport } from '@switchyard/adapter-redis'
import { cliBrokerSuite } from './broker-suite.js'
import { probeRedis, REDIS_URL } from './support.js'

cliBrokerSuite(
  {
    name: 'redis',
    url: REDIS_URL,
    transport: () => redisTransport({ url: REDIS_URL }),
    groupless: true,
  },
  probeRedis,
)
