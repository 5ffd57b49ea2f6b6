import { fileURLToPath } from 'node:url'
import { serviceOrSkip, startConsumerProcess, transportConformance } from '@switchyard/testkit'
import type { Cluster } from 'ioredis'
import { afterAll, beforeAll } from 'vitest'
import { redisTransport, topicKeys } from '../src/index.js'
import { clusterClient, hasClusterTools, RedisCluster } from './cluster-nodes.js'
import { uniquePrefix } from './helpers.js'

// The whole suite on a private Redis Cluster of three masters and three replicas
// (tooling/cluster/redis.sh): a topic's keys share one hash slot, so its scripts and pipelines
// stay on one node while topics spread over all three masters. The killed consumer runs as a
// process of its own on the same cluster; the broker restart stops and starts every node of a
// second cluster on its append-only files.
const skip = await serviceOrSkip('redis-server and redis-cli binaries', hasClusterTools)
// Started by the first test that runs, not when the file loads: a run whose filter leaves out
// every test here starts no cluster (and would run no afterAll to stop it).
let cluster: RedisCluster | undefined
beforeAll(async () => {
  if (skip === undefined) cluster = await RedisCluster.start()
}, 180_000)
const clients: Cluster[] = []
afterAll(async () => {
  for (const client of clients.splice(0)) client.disconnect()
  await cluster?.destroy()
})
const keyPrefix = uniquePrefix('cluster')
// The killed consumer and its survivor hand over within a second, not the default 30 s.
const HAND_OVER_MS = 1_000

/** A client on `on` that the suite disconnects at the end (the transport never quits a client it was given). */
function client(on: RedisCluster): Cluster {
  const made = clusterClient(on.nodes)
  clients.push(made)
  return made
}

transportConformance(
  'redis (cluster)',
  () => redisTransport({ client: client(cluster!), keyPrefix }),
  {
    skip,
    features: redisTransport().features,
    delayToleranceMs: 500,
    // Six nodes and a child process that connects to all of them: more room on a busy machine
    // than the single server's 30 s (only a ceiling; conditions are waited for, not slept).
    timeoutMs: 60_000,
    // Foreign entries on a Cluster: the XADD goes to the node of the topic's hash slot.
    injectRaw: async (topic, { headers = {}, body, key }) => {
      const fields = Object.entries(headers).flat()
      if (key !== undefined) fields.push('key', key)
      const raw = client(cluster!)
      const stream = topicKeys(keyPrefix, topic).stream
      const id = await raw.xadd(stream, '*', ...fields, 'data', Buffer.from(body))
      return Number(id!.split('-')[0])
    },
    spawnConsumer: (spec) =>
      startConsumerProcess(new URL('./fixtures/cluster-consumer.ts', import.meta.url), spec, {
        args: [
          cluster!.nodes.map((n) => `${n.host}:${n.port}`).join(','),
          keyPrefix,
          String(HAND_OVER_MS),
        ],
        execArgv: ['--conditions=@switchyard/source', '--import', '@switchyard/config/ts-child'],
        cwd: fileURLToPath(new URL('..', import.meta.url)),
      }),
    survivor: () =>
      redisTransport({ client: client(cluster!), keyPrefix, consumerTimeoutMs: HAND_OVER_MS }),
    // The visibility timeout, then a reclaim sweep (every half of it).
    handOverMs: 2 * HAND_OVER_MS,
    privateBroker: async () => {
      const own = await RedisCluster.start()
      return {
        make: () => redisTransport({ client: client(own), keyPrefix }),
        restart: () => own.restart(),
        dispose: () => own.destroy(),
        timeoutMs: 60_000,
      }
    },
  },
)
