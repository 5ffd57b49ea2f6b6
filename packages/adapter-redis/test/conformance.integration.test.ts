import { fileURLToPath } from 'node:url'
import { startConsumerProcess, transportConformance } from '@switchyard/testkit'
import { Redis } from 'ioredis'
import { afterAll } from 'vitest'
import { redisTransport, topicKeys } from '../src/index.js'
import { deleteKeys, PrivateRedis, REDIS_URL, redisOrSkip, uniquePrefix } from './helpers.js'

const keyPrefix = uniquePrefix('conformance')
const skip = await redisOrSkip()
afterAll(() => (skip === undefined ? deleteKeys(REDIS_URL, keyPrefix) : undefined))
// The killed consumer and its survivor hand over within a second, not the default 30 s.
const HAND_OVER_MS = 1_000

transportConformance('redis', () => redisTransport({ url: REDIS_URL, keyPrefix }), {
  skip,
  features: redisTransport().features,
  delayToleranceMs: 500,
  // An outside producer: a bare XADD of the fields the adapter documents; the id's ms is the stored time.
  injectRaw: async (topic, { headers = {}, body, key }) => {
    const fields = Object.entries(headers).flat()
    if (key !== undefined) fields.push('key', key)
    const client = new Redis(REDIS_URL)
    try {
      const id = await client.xadd(
        topicKeys(keyPrefix, topic).stream,
        '*',
        ...fields,
        'data',
        Buffer.from(body),
      )
      return Number(id!.split('-')[0])
    } finally {
      client.disconnect()
    }
  },
  spawnConsumer: (spec) =>
    startConsumerProcess(new URL('./fixtures/consumer.ts', import.meta.url), spec, {
      args: [REDIS_URL, keyPrefix, String(HAND_OVER_MS)],
      execArgv: ['--conditions=@switchyard/source', '--import', '@switchyard/config/ts-child'],
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    }),
  survivor: () => redisTransport({ url: REDIS_URL, keyPrefix, consumerTimeoutMs: HAND_OVER_MS }),
  // The visibility timeout, then a reclaim sweep (every half of it).
  handOverMs: 2 * HAND_OVER_MS,
  // A redis-server of the suite's own (append-only, spare port): the shared one is never stopped.
  privateBroker: async () => {
    const server = await PrivateRedis.start()
    return {
      make: () => redisTransport({ url: server.url, keyPrefix }),
      restart: () => server.restart(),
      dispose: () => server.destroy(),
    }
  },
})
