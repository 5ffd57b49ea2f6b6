import { ConfigurationError } from '@switchyard/core'

/** Webhook settings shared by every subscription of a gateway. */
export interface WebhookOptions {
  /**
   * CIDR ranges or addresses a webhook may reach although they are refused by default
   * (loopback, private, link-local, metadata, multicast, reserved), e.g. `['10.0.0.0/8']` for
   * services inside a cluster, `['127.0.0.1']` for a local receiver. @default []
   */
  allowNetworks?: readonly string[]
  /** Most open connections per webhook origin, across its subscriptions. @default 128 */
  maxConnectionsPerOrigin?: number
  /** Longest `Retry-After` honoured; longer ones wait this long. @default 600000 (10 minutes) */
  maxRetryAfterMs?: number
  /**
   * Most `Retry-After` back-offs (429/503) per event that do not use up an attempt of the
   * subscription's retry policy; later ones count as failed attempts. @default 10
   */
  maxRetryAfterWaits?: number
  /** Most bytes of a failed response's body kept for the dead-letter reason. @default 256 */
  bodyExcerptBytes?: number
  /** `user-agent` header of webhook requests. @default 'switchyard-gateway' */
  userAgent?: string
}

/** Settings of the gateway's subscriptions (the plugin's `subscriptions` option). */
export interface SubscriptionOptions {
  /** Webhook delivery settings, among them the SSRF allow-list. */
  webhooks?: WebhookOptions
  /**
   * How often each gateway process reads the stored subscriptions and applies what another
   * process created, paused, resumed or deleted, and writes its counters. @default 2000
   */
  syncIntervalMs?: number
  /** Interval of `status` frames on `/ws/subscriptions/{id}`. @default 5000 */
  statusIntervalMs?: number
  /** First part of the broker consumer group of each subscription. @default 'switchyard-sub' */
  groupPrefix?: string
}

/** `SubscriptionOptions` with defaults applied. */
export interface ResolvedSubscriptionOptions {
  allowNetworks: readonly string[]
  maxConnectionsPerOrigin: number
  maxRetryAfterMs: number
  maxRetryAfterWaits: number
  bodyExcerptBytes: number
  userAgent: string
  syncIntervalMs: number
  statusIntervalMs: number
  groupPrefix: string
}

function positive(value: number | undefined, fallback: number, field: string): number {
  const n = value ?? fallback
  if (!Number.isFinite(n) || n <= 0) {
    throw new ConfigurationError(`subscriptions.${field} must be a positive number`, {
      field: `subscriptions.${field}`,
    })
  }
  return n
}

function whole(value: number | undefined, fallback: number, field: string): number {
  const n = value ?? fallback
  if (!Number.isInteger(n) || n < 0) {
    throw new ConfigurationError(`subscriptions.${field} must be a whole number ≥ 0`, {
      field: `subscriptions.${field}`,
    })
  }
  return n
}

/**
 * Applies the defaults.
 * @throws {ConfigurationError} naming a setting that is not a positive (or whole) number.
 */
export function resolveSubscriptionOptions(
  options: SubscriptionOptions = {},
): ResolvedSubscriptionOptions {
  const webhooks = options.webhooks ?? {}
  return {
    allowNetworks: webhooks.allowNetworks ?? [],
    maxConnectionsPerOrigin: positive(
      webhooks.maxConnectionsPerOrigin,
      128,
      'webhooks.maxConnectionsPerOrigin',
    ),
    maxRetryAfterMs: positive(webhooks.maxRetryAfterMs, 600_000, 'webhooks.maxRetryAfterMs'),
    maxRetryAfterWaits: whole(webhooks.maxRetryAfterWaits, 10, 'webhooks.maxRetryAfterWaits'),
    bodyExcerptBytes: positive(webhooks.bodyExcerptBytes, 256, 'webhooks.bodyExcerptBytes'),
    userAgent: webhooks.userAgent ?? 'switchyard-gateway',
    syncIntervalMs: positive(options.syncIntervalMs, 2_000, 'syncIntervalMs'),
    statusIntervalMs: positive(options.statusIntervalMs, 5_000, 'statusIntervalMs'),
    groupPrefix: options.groupPrefix ?? 'switchyard-sub',
  }
}
