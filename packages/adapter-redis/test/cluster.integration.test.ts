import { serviceOrSkip, transportConformance } from '@switchyard/testkit'
import { Cluster } from 'ioredis'
import { afterAll } from 'vitest'
import { redisTransport, topicKeys } from '../src/index.js'
import { hasRedisCli, hasRedisServer, PrivateCluster, uniquePrefix } from './helpers.js'

// The whole suite on a private three-node Redis Cluster: a topic's keys share one hash slot, so
// its scripts and pipelines stay on one node while topics spread over all three.
const skip = await serviceOrSkip('redis-server and redis-cli binaries', async () => {
  if (!hasRedisServer() || !hasRedisCli())
    throw new Error('redis-server or redis-cli is not on the PATH')
})
const cluster = skip === undefined ? await PrivateCluster.start() : undefined
afterAll(() => cluster?.destroy())
const keyPrefix = uniquePrefix('cluster')
const make = () => redisTransport({ client: new Cluster(cluster!.nodes), keyPrefix })

transportConformance('redis (cluster)', make, {
  skip,
  features: redisTransport().features,
  delayToleranceMs: 500,
  // Foreign entries on a Cluster: the XADD goes to the node of the topic's hash slot.
  injectRaw: async (topic, { headers = {}, body, key }) => {
    const fields = Object.entries(headers).flat()
    if (key !== undefined) fields.push('key', key)
    const client = new Cluster(cluster!.nodes)
    try {
      const stream = topicKeys(keyPrefix, topic).stream
      const id = await client.xadd(stream, '*', ...fields, 'data', Buffer.from(body))
      return Number(id!.split('-')[0])
    } finally {
      client.disconnect()
    }
  },
  spawnConsumer: { skip: 'a killed consumer is proven on the single server (same code path)' },
})
