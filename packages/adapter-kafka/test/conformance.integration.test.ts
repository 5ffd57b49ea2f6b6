import { serviceOrSkip, startConsumerProcess, transportConformance } from '@switchyard/testkit'
import { kafkaTransport } from '../src/index.js'
import { buildConsumer } from './fixtures/build-consumer.js'
import { BROKERS, createTopics, FAST, probe, rawClient } from './helpers.js'
import { PrivateBroker } from './private-broker.js'

const skip = await serviceOrSkip('Kafka', () => probe())
let consumerScript: Promise<string> | undefined
let restarts = 0
transportConformance('kafka', () => kafkaTransport({ brokers: BROKERS, ...FAST }), {
  skip,
  features: kafkaTransport().features,
  delayToleranceMs: 500,
  // Three partitions, so ordering, rebalancing and commits are tested across partitions.
  prepareTopic: (topic) => createTopics([topic], 3),
  // A bare kafkajs producer, as a service outside Switchyard writes; the record's own timestamp
  // (CreateTime, the topic default) is the time the broker stores with it.
  injectRaw: async (topic, { headers, body, key }) => {
    const producer = rawClient().producer()
    const timestamp = Date.now()
    await producer.connect()
    try {
      const value = typeof body === 'string' ? body : Buffer.from(body)
      const message = {
        key: key ?? null,
        value,
        headers: headers ?? {},
        timestamp: String(timestamp),
      }
      await producer.send({ topic, messages: [message] })
    } finally {
      await producer.disconnect()
    }
    return timestamp
  },
  spawnConsumer: async (spec) => {
    consumerScript ??= buildConsumer()
    return startConsumerProcess(await consumerScript, spec, { args: [BROKERS] })
  },
  // A killed member's partitions move once the group's session timeout passes.
  handOverMs: FAST.sessionTimeoutMs!,
  // The restart scenario stops a broker of its own, never the shared one.
  privateBroker: async () => {
    const broker = await PrivateBroker.start()
    return {
      make: () => kafkaTransport({ brokers: broker.brokers, ...FAST }),
      // First a clean shutdown, then a kill: acks=all must lose nothing either way.
      restart: () => broker.restart(restarts++ % 2 === 0),
      prepareTopic: (topic) => createTopics([topic], 3, broker.brokers),
      timeoutMs: 60_000,
      dispose: () => broker.destroy(),
    }
  },
})
