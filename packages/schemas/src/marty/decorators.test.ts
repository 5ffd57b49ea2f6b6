import { memoryTransport } from '@switchyard/adapter-memory'
import { ConfigurationError, SchemaValidationError } from '@switchyard/core'
import { createTestBus, type TestBus } from '@switchyard/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  AuditEventType,
  auditEvent,
  domainEvent,
  EventPublisher,
  type MethodCall,
} from './index.js'

// TypeScript 5 standard decorators (no experimentalDecorators): vitest's esbuild lowers them,
// and `tsc -p .` type-checks them in this file.

interface User {
  id: string
  email: string
}
type CreateCall = MethodCall<UserService, [string, { email: string }], User>

class UserService {
  readonly calls: string[] = []
  constructor(
    readonly eventPublisher: EventPublisher | undefined,
    private readonly bus: TestBus,
  ) {}

  @auditEvent<CreateCall>({
    eventType: AuditEventType.DATA_CREATED,
    action: 'create_user',
    resourceType: 'user',
    resourceId: ({ args }) => args[0],
    details: ({ result }) => ({ email: result.email }),
  })
  @domainEvent<CreateCall>({
    aggregateType: 'user',
    eventType: 'user_created',
    aggregateId: ({ result }) => result.id,
    metadata: ({ self }) => ({ correlationId: `calls-${self.calls.length}` }),
  })
  async createUser(id: string, data: { email: string }): Promise<User> {
    // Nothing is published while the method runs: events follow success.
    this.calls.push(`create ${id} (published so far: ${this.bus.published.length})`)
    if (data.email === 'taken@example.com') throw new Error('email taken')
    return { id, email: data.email }
  }

  @domainEvent({
    aggregateType: 'user',
    eventType: 'user_renamed',
    aggregateId: ({ args }) => String(args[0]),
    // The type already refuses data nested this deep; the cast shows the run-time check too.
    eventData: () => ({ bad: { deep: { deeper: { deepest: { x: [] } } } } }) as never,
  })
  async renameUser(id: string): Promise<void> {
    this.calls.push(`rename ${id}`)
  }
}

class Orphan {
  ran = false
  @auditEvent({ eventType: AuditEventType.USER_LOGOUT, action: 'logout', resourceType: 'session' })
  async logout(): Promise<void> {
    this.ran = true
  }
}

let bus: TestBus
let service: UserService
beforeEach(() => {
  bus = createTestBus({ transport: memoryTransport() })
  service = new UserService(new EventPublisher({ serviceName: 'user-service', bus }), bus)
})
afterEach(() => bus.close())

describe('decorators - @auditEvent and @domainEvent', () => {
  it('decorators - publish once each after the method succeeds, on the right topics', async () => {
    const user = await service.createUser('user-123', { email: 'ada@example.com' })
    expect(user).toEqual({ id: 'user-123', email: 'ada@example.com' })
    expect(service.calls).toEqual(['create user-123 (published so far: 0)'])
    expect(bus.published.map((p) => p.topic)).toEqual([
      'marty.user-service.user.user_created',
      'marty.user-service.audit.data_created',
    ])
    const [domain, audit] = bus.published.map((p) => p.event)
    expect(domain).toMatchObject({
      type: 'marty.domain.user.user_created',
      subject: 'user-123',
      correlationid: 'calls-1',
      data: { aggregate_id: 'user-123', event_data: { id: 'user-123', email: 'ada@example.com' } },
    })
    expect(audit).toMatchObject({
      type: 'marty.audit.data_created',
      data: {
        action: 'create_user',
        resource_type: 'user',
        resource_id: 'user-123',
        outcome: 'success',
        details: { email: 'ada@example.com' },
      },
    })
  })

  it('decorators - publish nothing when the method throws, and the error passes through', async () => {
    await expect(service.createUser('user-9', { email: 'taken@example.com' })).rejects.toThrow(
      'email taken',
    )
    expect(service.calls).toHaveLength(1)
    expect(bus.published).toHaveLength(0)
  })

  it('decorators - every successful call publishes again', async () => {
    await service.createUser('u1', { email: 'a@example.com' })
    await service.createUser('u2', { email: 'b@example.com' })
    expect(bus.publishedTo('marty.user-service.audit.data_created').map((e) => e.subject)).toEqual([
      'u1',
      'u2',
    ])
  })

  it('decorators - a publisher can be chosen per decorator', async () => {
    const other = createTestBus({ transport: memoryTransport() })
    const publisher = new EventPublisher({
      serviceName: 'billing',
      topicPrefix: 'acme',
      bus: other,
    })
    class Billing {
      @domainEvent({
        aggregateType: 'invoice',
        eventType: 'invoice_paid',
        aggregateId: ({ args }) => String(args[0]),
        publisher: () => publisher,
      })
      async pay(_id: string): Promise<{ paid: boolean }> {
        return { paid: true }
      }
    }
    await new Billing().pay('inv-1')
    expect(other.published.map((p) => p.topic)).toEqual(['acme.billing.invoice.invoice_paid'])
    await other.close()
  })

  it('decorators - without a publisher the method does not run', async () => {
    const orphan = new Orphan()
    await expect(orphan.logout()).rejects.toThrow(/no EventPublisher/)
    expect(orphan.ran).toBe(false)
  })

  it('decorators - invalid event data rejects the call after the method ran', async () => {
    await expect(service.renameUser('u1')).rejects.toThrow(SchemaValidationError)
    expect(service.calls).toEqual(['rename u1'])
    expect(bus.published).toHaveLength(0)
  })

  it('decorators - refuse an unknown audit type or a missing id selector at decoration', () => {
    expect(() =>
      auditEvent({ eventType: 'marty.audit.nope' as never, action: 'a', resourceType: 'r' }),
    ).toThrow(ConfigurationError)
    expect(() => domainEvent({ aggregateType: 'a', eventType: 'e' } as never)).toThrow(
      ConfigurationError,
    )
  })
})
