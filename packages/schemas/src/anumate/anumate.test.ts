import { memoryTransport } from '@switchyard/adapter-memory'
import { ConfigurationError, type EventEnvelope, SchemaValidationError } from '@switchyard/core'
import { createTestBus, type TestBus, waitUntil } from '@switchyard/testkit'
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest'
import {
  ANUMATE_SERVICES,
  AnumateEventType,
  anumateCatalog,
  type CapsuleCreatedData,
  createAnumateEvent,
  createAnumatePublishers,
  createAnumateSubscribers,
  type EventContext,
  getSchemaRegistry,
  serviceOf,
} from './index.js'

const uuid = '5b8c2d1e-7f3a-4c9b-a1d2-e3f4a5b6c7d8'

// One invalid example per type; the Record type makes the compiler insist on all of them.
const invalid: Record<AnumateEventType, { data: Record<string, unknown>; path: string }> = {
  'com.anumate.capsule.created': {
    data: { capsule_id: 'c', name: 'tf', version: 'v1' },
    path: 'data.version',
  },
  'com.anumate.capsule.updated': { data: { capsule_id: 'c' }, path: 'data.version' },
  'com.anumate.capsule.deleted': {
    data: { capsule_id: 'c', deleted_by: 'not an email or id' },
    path: 'data.deleted_by',
  },
  'com.anumate.capsule.published': {
    data: { capsule_id: 'c', version: '1.0.0', checksum: 'md5:x' },
    path: 'data.checksum',
  },
  'com.anumate.policy.created': {
    data: { policy_id: 'p', name: 'n', enforcement_mode: 'maybe' },
    path: 'data.enforcement_mode',
  },
  'com.anumate.policy.updated': {
    data: { policy_id: 'p', changed_fields: ['a', 'a'] },
    path: 'data.changed_fields',
  },
  'com.anumate.policy.violated': {
    data: {
      policy_id: 'p',
      resource_type: 'b',
      resource_id: 'r',
      severity: 'severe',
      violation: 'x',
    },
    path: 'data.severity',
  },
  'com.anumate.policy.enforced': {
    data: { policy_id: 'p', resource_type: 'b', resource_id: 'r' },
    path: 'data.decision',
  },
  'com.anumate.execution.started': {
    data: { execution_id: 'run-1', capsule_id: 'c' },
    path: 'data.execution_id',
  },
  'com.anumate.execution.completed': {
    data: { execution_id: uuid, capsule_id: 'c', duration_ms: 1.5 },
    path: 'data.duration_ms',
  },
  'com.anumate.execution.failed': {
    data: { execution_id: uuid, capsule_id: 'c' },
    path: 'data.error',
  },
  'com.anumate.execution.paused': {
    data: { execution_id: uuid, capsule_id: 'c', reason: 'lunch' },
    path: 'data.reason',
  },
  'com.anumate.execution.resumed': {
    data: { execution_id: uuid, capsule_id: 'c', approval_id: 'a1' },
    path: 'data.approval_id',
  },
  'com.anumate.approval.requested': {
    data: { approval_id: uuid, requested_by: 'o', approvers: [] },
    path: 'data.approvers',
  },
  'com.anumate.approval.granted': {
    data: { approval_id: uuid, approved_by: 'u', extra: 1 },
    path: 'data.extra',
  },
  'com.anumate.approval.rejected': {
    data: { approval_id: uuid, rejected_by: 'u' },
    path: 'data.reason',
  },
}

const buses: TestBus[] = []
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()))
})
function testBus(): TestBus {
  const bus = createTestBus({ transport: memoryTransport(), source: 'anumate-test' })
  buses.push(bus)
  return bus
}

describe('anumate - catalog', () => {
  it('anumate - types are the com.anumate CloudEvents types of the seed', () => {
    expect(AnumateEventType.CAPSULE_CREATED).toBe('com.anumate.capsule.created')
    expect(AnumateEventType.APPROVAL_REJECTED).toBe('com.anumate.approval.rejected')
    expect(Object.keys(invalid).sort()).toEqual(anumateCatalog.events.map((e) => e.type).sort())
    expect(serviceOf('com.anumate.execution.paused')).toBe('orchestrator')
  })

  it.each(Object.entries(invalid))(
    'anumate - %s rejects its invalid example',
    (type, { data, path }) => {
      const result = getSchemaRegistry().check(type, data)
      expect(result.ok).toBe(false)
      if (!result.ok) expect(result.issues.map((i) => i.path)).toContain(path)
    },
  )

  it('anumate - createAnumateEvent maps the context onto the envelope', () => {
    const context: EventContext = {
      tenantId: 'tenant-123',
      correlationId: 'req-456',
      userId: 'u1',
      causationId: 'e0',
    }
    const event = createAnumateEvent(
      'com.anumate.capsule.created',
      { capsule_id: 'cap-1', name: 'tf', version: '1.0.0' },
      context,
    )
    expect(event).toMatchObject({
      source: 'https://anumate.com/services/registry',
      subject: 'cap-1',
      partitionkey: 'cap-1',
      tenantid: 'tenant-123',
      correlationid: 'req-456',
      causationid: 'e0',
      extensions: { userid: 'u1' },
    })
    expectTypeOf(event.data).toEqualTypeOf<CapsuleCreatedData | undefined>()
  })
})

describe('anumate - publishers', () => {
  it.each(anumateCatalog.events.map((d) => [d.type, d] as const))(
    'anumate - publishes %s with a typed method',
    async (_, def) => {
      const bus = testBus()
      const publishers = createAnumatePublishers(bus) as unknown as Record<
        string,
        Record<string, (d: unknown, c: EventContext) => Promise<EventEnvelope>>
      >
      const [, , aggregate, name] = def.type.split('.') as [string, string, string, string]
      const service = serviceOf(def.type)!
      expect(ANUMATE_SERVICES[service]).toBe(aggregate)
      const method = `${aggregate}${name[0]!.toUpperCase()}${name.slice(1)}`
      const example = (def.schema.examples as unknown[])[0]
      const event = await publishers[service]![method]!(example, {
        tenantId: 't1',
        correlationId: 'c1',
      })
      expect(bus.published).toHaveLength(1)
      expect(bus.published[0]).toEqual({ topic: def.topic, event })
      expect(event).toMatchObject({
        type: def.type,
        source: `https://anumate.com/services/${service}`,
        tenantid: 't1',
        dataschema: def.id,
      })
      expect(getSchemaRegistry().check(def.type, event.data).ok).toBe(true)
    },
  )

  it('anumate - the registry publisher has the seed methods, typed', async () => {
    const bus = testBus()
    const { registry, orchestrator } = createAnumatePublishers(bus, {
      topicFor: (d) => `custom.${d.type}`,
    })
    const event = await registry.capsuleCreated(
      {
        capsule_id: 'cap-789',
        name: 'terraform-aws',
        version: '2.0.0',
        author: 'user@anumate.com',
      },
      { tenantId: 'tenant-123', correlationId: 'req-456' },
    )
    expectTypeOf(event.data).toEqualTypeOf<CapsuleCreatedData | undefined>()
    expect(bus.published[0]!.topic).toBe('custom.com.anumate.capsule.created')
    // @ts-expect-error the registry service does not publish execution events
    expect(registry.executionStarted).toBeUndefined()
    expectTypeOf(orchestrator).toHaveProperty('executionPaused')
  })

  it('anumate - invalid data rejects the publish and sends nothing', async () => {
    const bus = testBus()
    const { approvals } = createAnumatePublishers(bus)
    await expect(
      approvals.approvalGranted({ approval_id: 'nope', approved_by: 'u' }),
    ).rejects.toThrow(SchemaValidationError)
    expect(bus.published).toHaveLength(0)
  })
})

describe('anumate - subscribers', () => {
  it('anumate - a service subscriber routes by type, with context and validated data', async () => {
    const bus = testBus()
    const seen: string[] = []
    const policy = createAnumateSubscribers(bus).policy({
      'com.anumate.capsule.published': async (event, context) => {
        seen.push(`${event.type}:${event.data?.capsule_id}:${context.tenantId}`)
      },
      'com.anumate.execution.started': async (event, context, ctx) => {
        seen.push(`${event.type}:${event.data?.execution_id}:${ctx.group}:${context.correlationId}`)
      },
    })
    await policy.start()
    const { registry, orchestrator } = createAnumatePublishers(bus)
    await registry.capsuleCreated(
      { capsule_id: 'cap-1', name: 'tf', version: '1.0.0' },
      { tenantId: 't' },
    )
    await registry.capsulePublished({ capsule_id: 'cap-1', version: '1.0.0' }, { tenantId: 't' })
    await orchestrator.executionStarted(
      { execution_id: uuid, capsule_id: 'cap-1' },
      { correlationId: 'r1' },
    )
    await waitUntil(() => seen.length === 2, { timeoutMs: 5_000 })
    expect(seen.sort()).toEqual([
      'com.anumate.capsule.published:cap-1:t',
      `com.anumate.execution.started:${uuid}:policy-service:r1`,
    ])
    await policy.close()
  })

  it('anumate - invalid data is dead-lettered and the subscriber keeps going', async () => {
    const bus = testBus()
    const handled: string[] = []
    const approvals = createAnumateSubscribers(bus).approvals({
      'com.anumate.execution.paused': (event) => void handled.push(event.data!.execution_id),
    })
    await approvals.start()
    await bus.publish('anumate.executions', {
      type: 'com.anumate.execution.paused',
      data: { execution_id: 'x' },
    })
    await createAnumatePublishers(bus).orchestrator.executionPaused({
      execution_id: uuid,
      capsule_id: 'c',
      reason: 'manual',
    })
    await waitUntil(() => handled.length === 1, { timeoutMs: 5_000 })
    const deadLetters = () => bus.deadLetters.list('anumate.executions.dlq')
    await waitUntil(async () => (await deadLetters()).length === 1, { timeoutMs: 5_000 })
    const [entry] = await deadLetters()
    expect(entry!.error.name).toBe('SchemaValidationError')
    expect(entry!.group).toBe('approvals-service')
    await approvals[Symbol.asyncDispose]()
  })

  it('anumate - a subscriber needs handlers that are functions', () => {
    const subscribers = createAnumateSubscribers(testBus())
    expect(() => subscribers.registry({})).toThrow(ConfigurationError)
    expect(() => subscribers.registry({ 'com.anumate.policy.created': 'nope' as never })).toThrow(
      ConfigurationError,
    )
  })
})
