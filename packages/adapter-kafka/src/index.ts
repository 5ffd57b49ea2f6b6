export { subscriptionRoundRobin } from './client.js'
export type {
  Env,
  KafkaClientLike,
  KafkaCompression,
  KafkaSasl,
  KafkaSecurityProtocol,
  KafkaTransportOptions,
} from './options.js'
export { fromEnv, publishRetryFromEnv } from './options.js'
export { KafkaTransport, kafkaTransport } from './transport.js'
