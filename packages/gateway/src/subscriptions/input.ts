import { randomUUID } from 'node:crypto'
import type { Principal } from '../auth.js'
import { HttpProblem } from '../problem.js'
import { STREAM_ID_PATTERN } from '../streams.js'
import type { SubscriptionDefinition, SubscriptionRecord } from './definition.js'
import { newWebhookSecret } from './signing.js'

const GROUP_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'
const TYPE_GLOB = '^[A-Za-z0-9*][A-Za-z0-9._*-]{0,199}$'

/** Body of `POST /api/v1/subscriptions` (APG's `SubscriptionConfig`, snake_case). */
export const CREATE_SCHEMA = {
  type: 'object',
  required: ['subscription_name', 'stream_id'],
  additionalProperties: false,
  properties: {
    subscription_name: { type: 'string', minLength: 1, maxLength: 200 },
    stream_id: { type: 'string', pattern: STREAM_ID_PATTERN },
    consumer_group_id: { type: 'string', pattern: GROUP_PATTERN },
    event_type_patterns: {
      type: 'array',
      maxItems: 50,
      items: { type: 'string', pattern: TYPE_GLOB },
    },
    tenant_id: { type: 'string', minLength: 1, maxLength: 200 },
    delivery: { type: 'string', enum: ['webhook', 'websocket'] },
    webhook_url: { type: 'string', minLength: 1, maxLength: 2048 },
    content_mode: { type: 'string', enum: ['binary', 'structured'], default: 'binary' },
    start_at: { type: 'string', minLength: 1, default: 'latest' },
    retry_policy: {
      type: 'object',
      additionalProperties: false,
      properties: {
        max_attempts: { type: 'integer', minimum: 1, maximum: 100, default: 5 },
        initial_backoff_ms: { type: 'integer', minimum: 0, maximum: 3_600_000, default: 1000 },
        max_backoff_ms: { type: 'integer', minimum: 0, maximum: 86_400_000, default: 60_000 },
      },
    },
    concurrency: { type: 'integer', minimum: 1, maximum: 256, default: 8 },
    timeout_ms: { type: 'integer', minimum: 100, maximum: 120_000, default: 10_000 },
    ack_timeout_ms: { type: 'integer', minimum: 100, maximum: 3_600_000, default: 30_000 },
  },
} as const

/** The create body after schema validation (defaults filled in). */
export interface CreateBody {
  subscription_name: string
  stream_id: string
  consumer_group_id?: string
  event_type_patterns?: string[]
  tenant_id?: string
  delivery?: 'webhook' | 'websocket'
  webhook_url?: string
  content_mode: 'binary' | 'structured'
  start_at: string
  retry_policy?: { max_attempts?: number; initial_backoff_ms?: number; max_backoff_ms?: number }
  concurrency: number
  timeout_ms: number
  ack_timeout_ms: number
}

function startAtOf(raw: string): string {
  if (raw === 'latest' || raw === 'earliest') return raw
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw)
  if (!Number.isFinite(ms)) {
    throw new HttpProblem(400, 'start_at must be "latest", "earliest" or an RFC 3339 time')
  }
  return new Date(ms).toISOString()
}

/**
 * The definition a create request asks for, with the tenant forced for a tenant token.
 * @throws {HttpProblem} 403 for another tenant's filter, 400 for an inconsistent delivery.
 */
export function definitionOf(
  body: CreateBody,
  principal: Principal,
  groupPrefix: string,
): SubscriptionDefinition {
  if (
    principal.tenant !== undefined &&
    body.tenant_id !== undefined &&
    body.tenant_id !== principal.tenant
  ) {
    throw new HttpProblem(403, `This token may subscribe to tenant "${principal.tenant}" only`)
  }
  const tenant = principal.tenant ?? body.tenant_id
  const delivery = body.delivery ?? (body.webhook_url === undefined ? 'websocket' : 'webhook')
  if (delivery === 'webhook' && body.webhook_url === undefined) {
    throw new HttpProblem(400, 'Webhook delivery needs a webhook_url')
  }
  if (delivery === 'websocket' && body.webhook_url !== undefined) {
    throw new HttpProblem(400, 'WebSocket delivery takes no webhook_url')
  }
  const retry = body.retry_policy ?? {}
  const initialBackoffMs = retry.initial_backoff_ms ?? 1000
  const maxBackoffMs = Math.max(initialBackoffMs, retry.max_backoff_ms ?? 60_000)
  const id = randomUUID()
  const consumerGroup = body.consumer_group_id ?? id
  return {
    id,
    name: body.subscription_name,
    streamId: body.stream_id,
    consumerGroup,
    // The tenant is part of the broker group: another tenant cannot join (and drain) this one.
    brokerGroup: `${groupPrefix}.${tenant === undefined ? '*' : `t-${tenant}`}.${consumerGroup}`,
    tenant,
    types: [...new Set(body.event_type_patterns ?? [])],
    delivery,
    webhookUrl: body.webhook_url,
    contentMode: body.content_mode,
    secret: newWebhookSecret(),
    startAt: startAtOf(body.start_at),
    retry: { maxAttempts: retry.max_attempts ?? 5, initialBackoffMs, maxBackoffMs },
    concurrency: body.concurrency,
    timeoutMs: body.timeout_ms,
    ackTimeoutMs: body.ack_timeout_ms,
    paused: false,
    createdAt: new Date().toISOString(),
    createdBy: principal.subject,
  }
}

/** A subscription as the API shows it (never its secret). */
export function subscriptionView(s: SubscriptionDefinition): Record<string, unknown> {
  return {
    id: s.id,
    subscription_name: s.name,
    stream_id: s.streamId,
    consumer_group_id: s.consumerGroup,
    tenant_id: s.tenant ?? null,
    event_type_patterns: s.types,
    delivery: s.delivery,
    webhook_url: s.webhookUrl ?? null,
    websocket_path: s.delivery === 'websocket' ? `/ws/subscriptions/${s.id}` : null,
    content_mode: s.contentMode,
    start_at: s.startAt,
    retry_policy: {
      max_attempts: s.retry.maxAttempts,
      initial_backoff_ms: s.retry.initialBackoffMs,
      max_backoff_ms: s.retry.maxBackoffMs,
    },
    concurrency: s.concurrency,
    timeout_ms: s.timeoutMs,
    ack_timeout_ms: s.ackTimeoutMs,
    state: s.paused ? 'paused' : 'active',
    dead_letter_topic: `${s.streamId}.dlq`,
    created_at: s.createdAt,
    created_by: s.createdBy ?? null,
  }
}

/** True when the principal may see and manage the subscription: same tenant, or no tenant. */
export function visibleTo(principal: Principal, s: SubscriptionRecord): boolean {
  return principal.tenant === undefined || s.tenant === principal.tenant
}
