export type { KafkaClientLike } from './client.js'
export { subscriptionRoundRobin } from './client.js'
export type { Env } from './from-env.js'
export { fromEnv } from './from-env.js'
export type {
  KafkaCompression,
  KafkaSasl,
  KafkaSecurityProtocol,
  KafkaSubscribeDefaults,
  KafkaTransportOptions,
} from './options.js'
export { KafkaTransport, kafkaTransport } from './transport.js'
