import { ConfigurationError, type EventEnvelope } from '@switchyard/core'
import { checkKeys } from '@switchyard/core/transport'
import type { ReadonlySchemaRegistry } from '../registry.js'
import {
  type AuditEventType,
  createMartyEvent,
  type DomainEventType,
  getSchemaRegistry,
  type NotificationEventType,
} from './catalog.js'
import { type EventPublisherConfig, topicName } from './config.js'
import type { DomainEventData, MartyEventMap } from './types.generated.js'

/**
 * Where events go: an `EventBus`, or for the outbox pattern anything with the same `publish`,
 * such as `createOutboxPublisher(tx)` of `@switchyard/outbox` bound to the caller's transaction.
 */
export interface EventSink {
  /** Sends (or stores) the complete envelope for `topic`. */
  publish(topic: string, event: EventEnvelope): Promise<unknown>
}

/** Options of `new EventPublisher`: the config plus where events go. */
export interface EventPublisherOptions extends EventPublisherConfig {
  /** The bus events are published on (required unless `useOutbox`). */
  bus?: EventSink
  /** The outbox events are written to (required when `useOutbox`), e.g. `createOutboxPublisher(tx)`. */
  outbox?: EventSink
  /** Registry validating the data. @default the shared Marty registry */
  registry?: ReadonlySchemaRegistry
}

/** Envelope attributes of one publish (Marty's `EventMetadata`). */
export interface MartyPublishOptions {
  /** Flow id, as `correlationid`. */
  correlationId?: string
  /** Id of the causing event, as `causationid`. */
  causationId?: string
  /** Tenant, as `tenantid`. */
  tenantId?: string
  /** Acting user, as extension `userid`. */
  userId?: string
  /** W3C trace context, as `traceparent`. */
  traceparent?: string
}

/** Audit data as a caller writes it: `service` is filled in from the publisher's config. */
export type AuditInput<K extends AuditEventType> = Omit<MartyEventMap[K], 'service'> & {
  service?: string
}

const OPTION_KEYS = ['serviceName', 'topicPrefix', 'useOutbox', 'bus', 'outbox', 'registry']

/**
 * Marty's unified publisher for audit, notification and domain events. Data is validated
 * against the Marty catalog; topics follow `{prefix}.{service}.{aggregate}.{eventType}`.
 * @throws {ConfigurationError} when the destination (bus or outbox) is missing.
 * @example
 * const publisher = new EventPublisher({ ...fromEnv(), bus })
 * await publisher.publishAuditEvent(AuditEventType.DATA_CREATED,
 *   { action: 'create_user', resource_type: 'user', resource_id: 'user-123' })
 */
export class EventPublisher {
  /** Source of every event and second topic segment. */
  readonly serviceName: string
  /** First topic segment ('' for none). */
  readonly topicPrefix: string
  /** True when events go to the outbox. */
  readonly useOutbox: boolean
  private readonly options: EventPublisherOptions
  private readonly registry: ReadonlySchemaRegistry

  constructor(options: EventPublisherOptions) {
    checkKeys(options, OPTION_KEYS, 'EventPublisher')
    this.options = options
    this.serviceName = options.serviceName
    this.topicPrefix = options.topicPrefix ?? 'marty'
    this.useOutbox = options.useOutbox ?? false
    this.registry = options.registry ?? getSchemaRegistry()
    topicName({
      prefix: this.topicPrefix,
      service: this.serviceName,
      aggregate: 'audit',
      eventType: 'check',
    })
    if (this.useOutbox && options.outbox === undefined) {
      throw new ConfigurationError('useOutbox is on (USE_OUTBOX_PATTERN): pass an outbox', {
        field: 'outbox',
      })
    }
    if (!this.useOutbox && options.bus === undefined) {
      throw new ConfigurationError('EventPublisher needs a bus (or useOutbox with an outbox)', {
        field: 'bus',
      })
    }
  }

  /** The same publisher writing to `outbox`, e.g. `createOutboxPublisher(tx)` for the current transaction. */
  withOutbox(outbox: EventSink): EventPublisher {
    return new EventPublisher({ ...this.options, useOutbox: true, outbox })
  }

  /** Topic of an audit or notification type: `{prefix}.{service}.audit.data_created`. */
  topicFor(type: AuditEventType | NotificationEventType): string {
    const [, aggregate, eventType] = type.split('.')
    return topicName({
      prefix: this.topicPrefix,
      service: this.serviceName,
      aggregate: aggregate!,
      eventType: eventType!,
    })
  }

  /**
   * Publishes an audit event (compliance trail); `service` defaults to this service.
   * @throws {SchemaValidationError} when the data does not match the schema; nothing is sent.
   */
  publishAuditEvent<K extends AuditEventType>(
    type: K,
    data: AuditInput<K>,
    options: MartyPublishOptions = {},
  ): Promise<EventEnvelope<MartyEventMap[K]>> {
    const full = { service: this.serviceName, ...data } as unknown as MartyEventMap[K]
    return this.send(() => this.topicFor(type), type, full, options)
  }

  /**
   * Publishes a notification event for the notification service to deliver.
   * @throws {SchemaValidationError} when the data does not match the schema; nothing is sent.
   */
  publishNotificationEvent<K extends NotificationEventType>(
    type: K,
    data: MartyEventMap[K],
    options: MartyPublishOptions = {},
  ): Promise<EventEnvelope<MartyEventMap[K]>> {
    return this.send(() => this.topicFor(type), type, data, options)
  }

  /**
   * Publishes a domain event as `marty.domain.<aggregate>.<event>` on
   * `{prefix}.{service}.{aggregate}.{event}`, keyed by the aggregate id (ordered per aggregate).
   * @throws {SchemaValidationError} when the data does not match the schema; nothing is sent.
   */
  publishDomainEvent(
    data: DomainEventData,
    options: MartyPublishOptions = {},
  ): Promise<EventEnvelope<DomainEventData>> {
    const type: DomainEventType = `marty.domain.${data?.aggregate_type}.${data?.event_type}`
    // The topic is built after validation, so bad names fail as schema errors, not topic errors.
    const topic = () =>
      topicName({
        prefix: this.topicPrefix,
        service: this.serviceName,
        aggregate: data.aggregate_type,
        eventType: data.event_type,
      })
    return this.send(topic, type, data, options)
  }

  private async send<T>(
    topic: () => string,
    type: keyof MartyEventMap & string,
    data: T,
    options: MartyPublishOptions,
  ): Promise<EventEnvelope<T>> {
    const event = createMartyEvent(type, data as never, {
      ...options,
      source: this.serviceName,
      registry: this.registry,
    }) as EventEnvelope<T>
    await (this.useOutbox ? this.options.outbox! : this.options.bus!).publish(topic(), event)
    return event
  }
}
