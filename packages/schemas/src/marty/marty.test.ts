import { memoryTransport } from '@switchyard/adapter-memory'
import { ConfigurationError, type EventEnvelope, SchemaValidationError } from '@switchyard/core'
import { createTestBus, type TestBus } from '@switchyard/testkit'
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest'
import {
  AuditEventType,
  createMartyEvent,
  type DataCreatedData,
  EventPublisher,
  fromEnv,
  getSchemaRegistry,
  type MartyEventMap,
  martyCatalog,
  NotificationEventType,
  topicName,
} from './index.js'

type Type = keyof MartyEventMap & string

// One invalid example per type (domain events as one family); the Record type keeps it complete.
const invalid: Record<
  Exclude<Type, `marty.domain.${string}`> | 'marty.domain.user.user_created',
  { data: object; path: string }
> = {
  'marty.audit.data_created': {
    data: { action: 'create_user', resource_type: 'user' },
    path: 'data.resource_id',
  },
  'marty.audit.data_updated': {
    data: { action: 'a', resource_type: 'r', resource_id: 'i', changed_fields: 'email' },
    path: 'data.changed_fields',
  },
  'marty.audit.data_deleted': {
    data: { action: 'a', resource_type: 'r', resource_id: 'i', outcome: 'ok' },
    path: 'data.outcome',
  },
  'marty.audit.user_login': { data: { action: 'login', user_id: 'u' }, path: 'data.outcome' },
  'marty.audit.user_logout': {
    data: { action: 'logout', user_id: 'u', session_id: '42' },
    path: 'data.session_id',
  },
  'marty.audit.permission_denied': {
    data: { action: 'read', user_id: 'u' },
    path: 'data.resource_type',
  },
  'marty.audit.certificate_issued': {
    data: { action: 'issue', resource_type: 'c', resource_id: 'c1', serial_number: 'zz' },
    path: 'data.serial_number',
  },
  'marty.audit.certificate_revoked': {
    data: { action: 'revoke', resource_type: 'c', resource_id: 'c1', serial_number: '01' },
    path: 'data.revocation_reason',
  },
  'marty.audit.service_started': { data: { action: 'start' }, path: 'data.service' },
  'marty.audit.service_error': {
    data: { action: 'sync', service: 's', error_message: 'x', severity: 'bad' },
    path: 'data.severity',
  },
  'marty.notification.user_welcome': {
    data: { recipient_type: 'user', recipient_ids: [], subject: 's', message: 'm' },
    path: 'data.recipient_ids',
  },
  'marty.notification.user_password_reset': {
    data: {
      recipient_type: 'user',
      recipient_ids: ['u'],
      subject: 's',
      message: 'm',
      reset_url: 'not a url',
      reset_expires_at: '2024-01-01T00:00:00Z',
    },
    path: 'data.reset_url',
  },
  'marty.notification.certificate_expiring': {
    data: {
      recipient_type: 'user',
      recipient_ids: ['u'],
      subject: 's',
      message: 'm',
      certificate_id: 'c',
      expires_at: 'soon',
    },
    path: 'data.expires_at',
  },
  'marty.notification.certificate_expired': {
    data: {
      recipient_type: 'user',
      recipient_ids: ['u'],
      subject: 's',
      message: 'm',
      expired_at: '2024-01-01T00:00:00Z',
    },
    path: 'data.certificate_id',
  },
  'marty.notification.system_maintenance': {
    data: {
      recipient_type: 'all',
      recipient_ids: ['all'],
      subject: 's',
      message: 'm',
      window_start: '2024-01-01T00:00:00Z',
    },
    path: 'data.window_end',
  },
  'marty.notification.system_alert': {
    data: {
      recipient_type: 'role',
      recipient_ids: ['ops'],
      subject: 's',
      message: 'm',
      severity: 'critical',
      channels: ['fax'],
    },
    path: 'data.channels[0]',
  },
  'marty.domain.user.user_created': {
    data: { aggregate_type: 'User', aggregate_id: 'u1', event_type: 'x', event_data: {} },
    path: 'data.aggregate_type',
  },
}

const buses: TestBus[] = []
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()))
})
function testBus(): TestBus {
  const bus = createTestBus({ transport: memoryTransport() })
  buses.push(bus)
  return bus
}

describe('marty - catalog', () => {
  it('marty - audit and notification types of the seed', () => {
    expect(Object.keys(AuditEventType)).toEqual([
      'DATA_CREATED',
      'DATA_UPDATED',
      'DATA_DELETED',
      'USER_LOGIN',
      'USER_LOGOUT',
      'PERMISSION_DENIED',
      'CERTIFICATE_ISSUED',
      'CERTIFICATE_REVOKED',
      'SERVICE_STARTED',
      'SERVICE_ERROR',
    ])
    expect(Object.keys(NotificationEventType)).toEqual([
      'USER_WELCOME',
      'USER_PASSWORD_RESET',
      'CERTIFICATE_EXPIRING',
      'CERTIFICATE_EXPIRED',
      'SYSTEM_MAINTENANCE',
      'SYSTEM_ALERT',
    ])
    expect(Object.keys(invalid)).toHaveLength(martyCatalog.events.length)
  })

  it.each(Object.entries(invalid))(
    'marty - %s rejects its invalid example',
    (type, { data, path }) => {
      const result = getSchemaRegistry().check(type, data)
      expect(result.ok).toBe(false)
      if (!result.ok) expect(result.issues.map((i) => i.path)).toContain(path)
    },
  )
})

describe('marty - configuration', () => {
  it('marty - fromEnv reads SERVICE_NAME, EVENT_TOPIC_PREFIX and USE_OUTBOX_PATTERN', () => {
    expect(
      fromEnv({
        SERVICE_NAME: 'user-service',
        EVENT_TOPIC_PREFIX: 'acme',
        USE_OUTBOX_PATTERN: 'true',
      }),
    ).toEqual({
      serviceName: 'user-service',
      topicPrefix: 'acme',
      useOutbox: true,
    })
    expect(fromEnv({ SERVICE_NAME: 'a', USE_OUTBOX_PATTERN: '0' })).toEqual({
      serviceName: 'a',
      useOutbox: false,
    })
    expect(() => fromEnv({})).toThrow(/SERVICE_NAME is required/)
    expect(() => fromEnv({ SERVICE_NAME: 'a', USE_OUTBOX_PATTERN: 'sometimes' })).toThrow(
      ConfigurationError,
    )
    // The same boolean parser as every other fromEnv: on/off too, and the variable is named.
    expect(fromEnv({ SERVICE_NAME: 'a', USE_OUTBOX_PATTERN: 'on' }).useOutbox).toBe(true)
    expect(() => fromEnv({ SERVICE_NAME: 'a', USE_OUTBOX_PATTERN: 'maybe' })).toThrow(
      /USE_OUTBOX_PATTERN/,
    )
  })

  it('marty - topic naming is {prefix}.{service}.{aggregate}.{eventType}', () => {
    expect(
      topicName({
        prefix: 'marty',
        service: 'user-service',
        aggregate: 'user',
        eventType: 'user_created',
      }),
    ).toBe('marty.user-service.user.user_created')
    expect(topicName({ prefix: '', service: 's', aggregate: 'a', eventType: 'e' })).toBe('s.a.e')
    expect(() => topicName({ service: 'a.b', aggregate: 'a', eventType: 'e' })).toThrow(/service/)
  })

  it('marty - the publisher needs a destination', () => {
    expect(() => new EventPublisher({ serviceName: 's' })).toThrow(/needs a bus/)
    expect(() => new EventPublisher({ serviceName: 's', useOutbox: true })).toThrow(
      /pass an outbox/,
    )
    expect(() => new EventPublisher({ serviceName: 'bad service', bus: testBus() })).toThrow(
      ConfigurationError,
    )
  })
})

describe('marty - factories', () => {
  it.each(martyCatalog.events.map((d) => [d.type, d] as const))(
    'marty - the %s factory output validates',
    async (_, def) => {
      const example = (def.schema.examples as never[])[0]!
      const type = def.type.includes('*') ? 'marty.domain.user.user_created' : def.type
      const event = createMartyEvent(type as 'marty.audit.data_created', example, {
        source: 'user-service',
        userId: 'u1',
      })
      expect(event).toMatchObject({
        type,
        source: 'user-service',
        dataschema: def.id,
        extensions: { userid: 'u1' },
      })
      expect(getSchemaRegistry().check(type, event.data, { dataschema: event.dataschema }).ok).toBe(
        true,
      )

      const bus = testBus()
      const publisher = new EventPublisher({ serviceName: 'user-service', bus })
      const [, kind, name] = def.type.split('.') as [string, string, string]
      const published =
        kind === 'audit'
          ? await publisher.publishAuditEvent(def.type as 'marty.audit.data_created', example)
          : kind === 'notification'
            ? await publisher.publishNotificationEvent(
                def.type as 'marty.notification.user_welcome',
                example,
              )
            : await publisher.publishDomainEvent(example)
      const topic =
        kind === 'domain'
          ? 'marty.user-service.user.user_created'
          : `marty.user-service.${kind}.${name}`
      expect(bus.published).toEqual([{ topic, event: published }])
      expect(getSchemaRegistry().check(published.type, published.data).ok).toBe(true)
    },
  )
})

describe('marty - EventPublisher', () => {
  it('marty - publishes audit events with the service filled in', async () => {
    const bus = testBus()
    const publisher = new EventPublisher({ serviceName: 'user-service', bus })
    const event = await publisher.publishAuditEvent(
      AuditEventType.DATA_CREATED,
      { action: 'create_user', resource_type: 'user', resource_id: 'user-123' },
      { correlationId: 'req-1', userId: 'admin' },
    )
    expectTypeOf(event.data).toEqualTypeOf<DataCreatedData | undefined>()
    expect(bus.published).toEqual([{ topic: 'marty.user-service.audit.data_created', event }])
    expect(event).toMatchObject({
      type: 'marty.audit.data_created',
      source: 'user-service',
      subject: 'user-123',
      correlationid: 'req-1',
      extensions: { userid: 'admin' },
      data: {
        service: 'user-service',
        action: 'create_user',
        resource_type: 'user',
        resource_id: 'user-123',
      },
    })
  })

  it('marty - publishes notification and domain events on their topics', async () => {
    const bus = testBus()
    const publisher = new EventPublisher({
      ...fromEnv({ SERVICE_NAME: 'user-service', EVENT_TOPIC_PREFIX: 'marty' }),
      bus,
    })
    await publisher.publishNotificationEvent(NotificationEventType.USER_WELCOME, {
      recipient_type: 'user',
      recipient_ids: ['user-123'],
      subject: 'Welcome!',
      message: 'Account created successfully',
    })
    const domain = await publisher.publishDomainEvent({
      aggregate_type: 'user',
      aggregate_id: 'user-123',
      event_type: 'user_created',
      event_data: { email: 'user@example.com' },
    })
    expect(bus.published.map((p) => p.topic)).toEqual([
      'marty.user-service.notification.user_welcome',
      'marty.user-service.user.user_created',
    ])
    expect(domain).toMatchObject({
      type: 'marty.domain.user.user_created',
      partitionkey: 'user-123',
    })
  })

  it('marty - invalid data rejects and sends nothing', async () => {
    const bus = testBus()
    const publisher = new EventPublisher({ serviceName: 'user-service', bus })
    await expect(
      publisher.publishDomainEvent({
        aggregate_type: 'User.Admin',
        aggregate_id: 'u',
        event_type: 'x',
        event_data: {},
      }),
    ).rejects.toThrow(SchemaValidationError)
    await expect(
      // @ts-expect-error resource_id is required for data_created
      publisher.publishAuditEvent(AuditEventType.DATA_CREATED, {
        action: 'a',
        resource_type: 'user',
      }),
    ).rejects.toThrow(/data.resource_id: is required/)
    expect(bus.published).toHaveLength(0)
  })

  it('marty - with the outbox pattern events go to the outbox, not the bus', async () => {
    const bus = testBus()
    const stored: { topic: string; event: EventEnvelope }[] = []
    const outbox = {
      publish: async (topic: string, event: EventEnvelope) => void stored.push({ topic, event }),
    }
    const publisher = new EventPublisher({ serviceName: 'dtc-engine', useOutbox: true, outbox })
    await publisher.publishDomainEvent({
      aggregate_type: 'dtc',
      aggregate_id: 'dtc-1',
      event_type: 'dtc_validated',
      event_data: {},
    })
    const inTx = new EventPublisher({ serviceName: 'dtc-engine', bus }).withOutbox(outbox)
    await inTx.publishAuditEvent(AuditEventType.SERVICE_STARTED, { action: 'start' })
    expect(stored.map((s) => s.topic)).toEqual([
      'marty.dtc-engine.dtc.dtc_validated',
      'marty.dtc-engine.audit.service_started',
    ])
    expect(bus.published).toHaveLength(0)
  })
})
