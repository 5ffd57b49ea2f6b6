// `@switchyard/core/transport`: what adapter authors need, and nothing users should reach for.
export type { Codec, EncodedMessage } from './codec.js'
export { binaryCodec, isJsonContentType } from './codec.js'
export { Deque } from './deque.js'
export type { Env, EnvReader } from './env.js'
export { envReader, subscribeDefaultsFromEnv } from './env.js'
export type { EventEnvelope } from './envelope.js'
export {
  ClosedError,
  ConfigurationError,
  ConnectionError,
  DecodeError,
  MessagesLostError,
  PublishError,
  SwitchyardError,
  TimeoutError,
} from './errors.js'
export type { Logger, LogLevel } from './logger.js'
export { checkLogger, consoleLogger, errorFields, silentLogger } from './logger.js'
export { checkKeys, checkNumber, checkString } from './options.js'
export type { StartAt } from './start-at.js'
export { startAtTime } from './start-at.js'
export type { SubscribeDefaults } from './subscribe-options.js'
export { InFlight, sleep, withTimeout } from './timing.js'
export type { TopicCompression, TopicCreation, TopicSettings } from './topic-settings.js'
export type {
  InboundMessage,
  NackOptions,
  OutboundMessage,
  TransactionalOutput,
  Transport,
  TransportContext,
  TransportFeatures,
  TransportGroupInspection,
  TransportHealth,
  TransportPublishOptions,
  TransportSubscribeOptions,
  TransportSubscription,
  TransportTopicInspection,
} from './transport.js'
