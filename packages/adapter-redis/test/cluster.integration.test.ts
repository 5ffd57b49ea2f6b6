import { serviceOrSkip, transportConformance } from '@switchyard/testkit'
import { Cluster } from 'ioredis'
import { afterAll } from 'vitest'
import { redisTransport } from '../src/index.js'
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
})
