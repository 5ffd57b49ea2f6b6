// `@switchyard/gateway`: the Fastify plugin, `createGateway`, auth, state and metrics helpers.
export type { Authenticator, AuthOptions, MintOptions, Principal, Role } from './auth.js'
export { createAuthenticator, hasRole, mintToken } from './auth.js'
export type { GatewayContext } from './context.js'
export type { GatewayOptions } from './create-gateway.js'
export { createGateway } from './create-gateway.js'
export type { GatewayMetrics } from './metrics.js'
export { prometheusMetrics } from './metrics.js'
export type { GatewayPluginOptions } from './plugin.js'
export { switchyardGateway } from './plugin.js'
export type { ProblemBody } from './problem.js'
export { HttpProblem, PROBLEM_TYPE } from './problem.js'
export type { RateLimitOptions } from './rate-limit.js'
export { RateLimiter } from './rate-limit.js'
export type { OutboxSource } from './routes/outbox.js'
export type { StateOptions } from './state/open-store.js'
export { openStateStore } from './state/open-store.js'
export type { SqlClient, SqlStateStoreOptions } from './state/sql-store.js'
export { sqlStateStore } from './state/sql-store.js'
export type { StateStore, StoredSchema, StreamDefinition } from './state/store.js'
export type { StreamInput } from './streams.js'
export type {
  ContentMode,
  CounterDelta,
  DeliveryKind,
  SubscriptionCounters,
  SubscriptionDefinition,
  SubscriptionRecord,
  SubscriptionRetry,
  SubscriptionStore,
} from './subscriptions/definition.js'
export type { SubscriptionOptions, WebhookOptions } from './subscriptions/options.js'
export { WebhookDeliveryError } from './subscriptions/runner.js'
export type { VerifyWebhookOptions } from './subscriptions/signing.js'
export { signWebhook, verifyWebhook, WebhookVerificationError } from './subscriptions/signing.js'
export type { TokenCacheOptions } from './token-cache.js'
export type { LiveOptions } from './ws/options.js'
