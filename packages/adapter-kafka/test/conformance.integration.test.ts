import { serviceOrSkip, transportConformance } from '@switchyard/testkit'
import { kafkaTransport } from '../src/index.js'
import { BROKERS, createTopics, FAST, probe } from './helpers.js'

const skip = await serviceOrSkip('Kafka', () => probe())
transportConformance('kafka', () => kafkaTransport({ brokers: BROKERS, ...FAST }), {
  skip,
  features: {
    consumerGroups: true,
    orderedPerKey: true,
    persistent: true,
    replayFromStart: true,
    nativeDelay: false,
  },
  delayToleranceMs: 500,
  // Three partitions, so ordering, rebalancing and commits are tested across partitions.
  prepareTopic: (topic) => createTopics([topic], 3),
})
