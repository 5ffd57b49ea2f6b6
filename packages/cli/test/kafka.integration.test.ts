import { kafkaTransport } from '@switchyard/adapter-kafka'
import { cliBrokerSuite } from './broker-suite.js'
import { KAFKA_BROKERS, probeKafka } from './support.js'

cliBrokerSuite(
  {
    name: 'kafka',
    url: `kafka://${KAFKA_BROKERS}`,
    transport: () => kafkaTransport({ brokers: KAFKA_BROKERS.split(',') }),
    // The bin reads Kafka through the adapter's browse, which uses a throwaway group: kafkajs
    // has no consumer without a group.
    groupless: false,
  },
  probeKafka,
)
