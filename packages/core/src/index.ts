export type { BatchContext, BatchHandler, BatchOptions } from './batch.js'
export type { BusHealth, BusHooks, EventBusOptions } from './bus-options.js'
export type { Codec, EncodedMessage } from './codec.js'
export { binaryCodec, isJsonContentType, structuredCodec } from './codec.js'
export { createEventBus } from './create-event-bus.js'
export type { DeadLetterEntry, DeadLetterRecord } from './dead-letter-entry.js'
export { DEAD_LETTER_TYPE, readDeadLetter } from './dead-letter-entry.js'
export type {
  DeadLetterActions,
  DeadLetterApi,
  DeadLetterHandler,
  ReplayOptions,
} from './dead-letters.js'
export type { DedupClaim, DedupOptions, DedupStore } from './dedup.js'
export { dedup, memoryDedupStore } from './dedup.js'
export type { DeliveryMode } from './delivery-mode.js'
export type { DispatcherStats } from './dispatcher.js'
export type { EventEnvelope, EventInput } from './envelope.js'
export { assertValidEvent, createEvent } from './envelope.js'
export type { ValidationIssue } from './errors.js'
export {
  ClosedError,
  ConfigurationError,
  ConnectionError,
  DecodeError,
  HandlerError,
  MessagesLostError,
  PublishError,
  SchemaValidationError,
  SwitchyardError,
  TimeoutError,
  toError,
} from './errors.js'
export { EventBus } from './event-bus.js'
export { typeMatcher } from './glob.js'
export type { BusInspection, GroupInspection, TopicInspection } from './inspection.js'
export type { Logger, LogLevel } from './logger.js'
export { consoleLogger, silentLogger } from './logger.js'
export type {
  HandleContext,
  HandleMiddleware,
  Middleware,
  PublishContext,
  PublishMiddleware,
} from './middleware.js'
export type { Outcome } from './outcome.js'
export { isOutcome, outcome } from './outcome.js'
export type { PublishRetryOptions } from './publish-retry.js'
export type { RequestOptions } from './request-reply.js'
export type {
  Backoff,
  ErrorClass,
  ExponentialBackoffOptions,
  RetryOptions,
  RetryPolicy,
} from './retry-policy.js'
export { constant, exponential, retryPolicy } from './retry-policy.js'
export type { EventRoutes } from './routing.js'
export { Subscriptions } from './routing.js'
export type { StartAt } from './start-at.js'
export type {
  DeadLetterOptions,
  EventHandler,
  SubscribeDefaults,
  SubscribeOptions,
} from './subscribe-options.js'
export { Subscription } from './subscription.js'
export type { TopicCompression, TopicCreation, TopicSettings } from './topic-settings.js'
export type {
  TransportContext,
  TransportFeatures,
  TransportGroupInspection,
  TransportHealth,
  TransportTopicInspection,
} from './transport.js'
