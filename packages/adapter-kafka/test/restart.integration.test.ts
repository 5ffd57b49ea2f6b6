import { serviceOrSkip, transportConformance } from '@switchyard/testkit'
import { afterAll, vi } from 'vitest'
import { kafkaTransport } from '../src/index.js'
import { createTopics, FAST } from './helpers.js'
import { PrivateBroker } from './private-broker.js'

// The whole suite once more, against a broker of this file's own, so the reconnect scenario
// (broker restarted at 1/3 and 1/2 of 10 000 events) runs too; the shared broker stays up.
vi.setConfig({ testTimeout: 180_000 })
let broker: PrivateBroker | undefined
const skip = await serviceOrSkip(
  'Kafka (private broker for restarts)',
  async () => {
    broker = await PrivateBroker.start()
  },
  { timeoutMs: 120_000 },
)
afterAll(async () => {
  await broker?.destroy()
})

const brokers = () => broker?.brokers ?? '127.0.0.1:1'
let restarts = 0
transportConformance(
  'kafka (own broker, restarted)',
  () => kafkaTransport({ brokers: brokers(), ...FAST }),
  {
    skip,
    features: {
      consumerGroups: true,
      orderedPerKey: true,
      persistent: true,
      replayFromStart: true,
      nativeDelay: false,
    },
    delayToleranceMs: 500,
    prepareTopic: (topic) => createTopics([topic], 3, brokers()),
    // First a clean shutdown, then a kill: acks=all must lose nothing either way.
    restart: async () => {
      const t = Date.now()
      await broker!.restart(restarts++ % 2 === 0)
      console.info(`restart took ${Date.now() - t} ms`)
    },
    timeoutMs: 60_000,
  },
)
