export type {
  NatsConfig,
  NatsTransportOptions,
  StreamDefinition,
  StreamLimits,
} from './options.js'
export { fromEnv } from './options.js'
export type { NatsServerFeatures } from './stream-registry.js'
export { NatsTransport, natsTransport } from './transport.js'
