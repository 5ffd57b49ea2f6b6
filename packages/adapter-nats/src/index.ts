export type {
  NatsConfig,
  NatsTransportOptions,
  StreamDefinition,
  StreamLimits,
} from './options.js'
export { fromEnv } from './options.js'
export type { NatsServerFeatures } from './server-features.js'
export { NatsTransport, natsTransport } from './transport.js'
