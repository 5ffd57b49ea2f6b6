/**
 * Attribute, metric and span names from the OpenTelemetry messaging semantic conventions
 * (v1.27+ generation, still "development" upstream). They are spelled out here rather than imported
 * from `@opentelemetry/semantic-conventions` so the API stays our only runtime dependency.
 */

/** Span and metric attribute names used by `otelMiddleware`. */
export const ATTR = {
  messagingSystem: 'messaging.system',
  destinationName: 'messaging.destination.name',
  destinationTemporary: 'messaging.destination.temporary',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  messageId: 'messaging.message.id',
  conversationId: 'messaging.message.conversation_id',
  consumerGroup: 'messaging.consumer.group.name',
  kafkaKey: 'messaging.kafka.message.key',
  errorType: 'error.type',
  eventType: 'cloudevents.event_type',
  eventSource: 'cloudevents.event_source',
  eventSubject: 'cloudevents.event_subject',
  tenant: 'switchyard.tenant_id',
  attempt: 'switchyard.attempt',
  maxAttempts: 'switchyard.max_attempts',
  outcome: 'switchyard.outcome',
  reason: 'switchyard.reason',
  retryDelay: 'switchyard.retry.delay_ms',
} as const

/** Names of the span events `otelMiddleware` adds besides the standard `exception` event. */
export const SPAN_EVENT = {
  /** The attempt failed and the event will be delivered again. */
  retry: 'switchyard.retry',
  /** The event was given up on and sent to the dead-letter destination. */
  deadLetter: 'switchyard.dead_letter',
} as const

/** Names of the instruments `otelMiddleware` and `otelHooks` record. */
export const METRIC = {
  /** Counter `{message}`: events handed to the transport (one per published event). */
  sentMessages: 'messaging.client.sent.messages',
  /** Counter `{message}`: deliveries handed to the handler (one per attempt). */
  consumedMessages: 'messaging.client.consumed.messages',
  /** Histogram `s`: how long a publish took until the broker confirmed it. */
  operationDuration: 'messaging.client.operation.duration',
  /** Histogram `s`: how long one handling attempt took. */
  processDuration: 'messaging.process.duration',
  /** Counter `{message}`: attempts that ended in a retry (not a convention; Switchyard's own). */
  retriedMessages: 'switchyard.messaging.retried.messages',
  /** Counter `{message}`: events sent to the dead-letter destination (Switchyard's own). */
  deadLetteredMessages: 'switchyard.messaging.dead_lettered.messages',
  /** Counter `{message}`: messages the broker dropped or expired unread (`otelHooks`). */
  lostMessages: 'switchyard.messaging.lost.messages',
  /** Counter `{error}`: errors reported to the bus's `onError` hook (`otelHooks`). */
  busErrors: 'switchyard.bus.errors',
  /** Gauge `{message}`: stored, not yet delivered to the group (`inspectionGauges`). */
  consumerLag: 'switchyard.messaging.consumer.lag',
  /** Gauge `{message}`: delivered to the group, not settled (`inspectionGauges`). */
  consumerPending: 'switchyard.messaging.consumer.pending',
  /** Gauge `s`: age of the group's oldest unsettled message (`inspectionGauges`). */
  oldestUnsettledAge: 'switchyard.messaging.consumer.oldest_unsettled_age',
  /** Gauge `{message}`: messages the broker retains on the topic (`inspectionGauges`). */
  retainedMessages: 'switchyard.messaging.retained.messages',
  /** Gauge `{message}`: entries on the topic's dead-letter topic (`inspectionGauges`). */
  deadLetterDepth: 'switchyard.messaging.dead_letter.depth',
} as const

/**
 * DotMac's Prometheus names and the instrument that replaces each. Exported by the OpenTelemetry
 * Prometheus exporter, the dotted names become `messaging_client_sent_messages_total` and so on.
 */
export const DOTMAC_EQUIVALENTS: Readonly<Record<string, string>> = {
  events_published_total: METRIC.sentMessages,
  events_consumed_total: METRIC.consumedMessages,
  event_publish_duration_seconds: METRIC.operationDuration,
  event_consume_duration_seconds: METRIC.processDuration,
  events_retried_total: METRIC.retriedMessages,
  events_dlq_total: METRIC.deadLetteredMessages,
}

/** Bucket boundaries the conventions recommend for messaging duration histograms (seconds). */
export const DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]

/**
 * Destination as it appears in span names and metric attributes: a temporary destination (a
 * request/reply inbox, flagged by core on the context) carries a UUID, which would give every
 * requester its own time series, so they collapse to one name.
 */
export function destinationLabel(topic: string, temporary: boolean | undefined): string {
  return temporary === true ? '(temporary)' : topic
}
