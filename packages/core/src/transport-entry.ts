// `@switchyard/core/transport`: what adapter authors need, and nothing users should reach for.
export type { Codec, EncodedMessage } from './codec.js'
export { binaryCodec, isJsonContentType } from './codec.js'
export { Dispatcher } from './dispatcher.js'
export type { EventEnvelope } from './envelope.js'
export {
  ClosedError,
  ConfigurationError,
  ConnectionError,
  DecodeError,
  PublishError,
  TimeoutError,
} from './errors.js'
export { checkKeys, checkNumber, checkString } from './options.js'
export { startAtTime } from './start-at.js'
export type {
  InboundMessage,
  NackOptions,
  OutboundMessage,
  StartAt,
  Transport,
  TransportFeatures,
  TransportHealth,
  TransportSubscribeOptions,
  TransportSubscription,
} from './transport.js'
