import { ConfigurationError, SchemaValidationError } from '@switchyard/core'
import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  addTag,
  createAssetEvent,
  createAuditEvent,
  createClientEvent,
  createEmployeeEvent,
  createLeaveEvent,
  createOliveEvent,
  createSystemEvent,
  createTaskEvent,
  type EmployeeCreatedData,
  fromOliveJson,
  getSchemaRegistry,
  type OliveEvent,
  OliveEventType,
  type OliveFactory,
  oliveCatalog,
  tagsOf,
  toOliveJson,
  validateEventData,
  withCorrelationId,
  withUserContext,
} from './index.js'

// One invalid example per event type, with the path its error must name. The Record type makes
// the compiler insist that every Olive type is listed.
const invalid: Record<OliveEventType, { data: Record<string, unknown>; path: string }> = {
  'employee.created': {
    data: { employee_id: 'e1', email: 'bad', first_name: 'A', last_name: 'B' },
    path: 'data.email',
  },
  'employee.updated': { data: { employee_id: 'e1', changes: {} }, path: 'data.changes' },
  'employee.deleted': {
    data: { employee_id: 'e1', effective_date: 'tomorrow' },
    path: 'data.effective_date',
  },
  'leave.created': {
    data: {
      leave_id: 'l',
      employee_id: 'e',
      leave_type: 'holiday',
      start_date: '2024-01-01',
      end_date: '2024-01-02',
    },
    path: 'data.leave_type',
  },
  'leave.approved': { data: { leave_id: 'l', employee_id: 'e' }, path: 'data.approved_by' },
  'leave.rejected': {
    data: { leave_id: 'l', employee_id: 'e', rejected_by: 'm', reason: '' },
    path: 'data.reason',
  },
  'client.created': { data: { client_id: 'c', name: 'Acme', status: 'gone' }, path: 'data.status' },
  'client.updated': { data: { client_id: 'c', changes: { vat: 'x' } }, path: 'data.changes.vat' },
  'client.deleted': { data: { client_id: 'bad id' }, path: 'data.client_id' },
  'asset.created': {
    data: { asset_id: 'a', asset_type: 'laptop', name: 'X', value: -1, currency: 'EUR' },
    path: 'data.value',
  },
  'asset.assigned': {
    data: { asset_id: 'a', employee_id: 'e', assigned_at: 'yesterday' },
    path: 'data.assigned_at',
  },
  'asset.returned': {
    data: { asset_id: 'a', employee_id: 'e', condition: 'meh' },
    path: 'data.condition',
  },
  'system.health_check': { data: { service: 'hr', status: 'ok' }, path: 'data.status' },
  'system.backup_completed': {
    data: {
      backup_id: 'b-1',
      status: 'success',
      completed_at: '2024-01-01T00:00:00Z',
      size_bytes: 1,
    },
    path: 'data.backup_id',
  },
  'audit.user_login': { data: { user_id: 'u', success: 'yes' }, path: 'data.success' },
  'audit.permission_change': {
    data: { user_id: 'u', changed_by: 'a', permission: 'p', action: 'toggled' },
    path: 'data.action',
  },
  'task.created': {
    data: { task_id: 't', task_type: 'x', payload: { nested: { no: 1 } } },
    path: 'data.payload.nested',
  },
}

const factories: Record<string, OliveFactory<never>> = {
  employee: createEmployeeEvent,
  leave: createLeaveEvent,
  client: createClientEvent,
  asset: createAssetEvent,
  system: createSystemEvent,
  audit: createAuditEvent,
  task: createTaskEvent,
}

describe('olive - catalog', () => {
  it('olive - covers every event type of the seed', () => {
    expect(Object.values(OliveEventType).sort()).toEqual(
      oliveCatalog.events.map((e) => e.type).sort(),
    )
    expect(OliveEventType.SYSTEM_HEALTH_CHECK).toBe('system.health_check')
    expect(Object.keys(invalid).sort()).toEqual(Object.values(OliveEventType).sort())
  })

  it.each(Object.entries(invalid))(
    'olive - %s rejects its invalid example',
    (type, { data, path }) => {
      const result = getSchemaRegistry().check(type, data)
      expect(result.ok).toBe(false)
      if (!result.ok) expect(result.issues.map((i) => i.path)).toContain(path)
    },
  )

  it('olive - validateEventData returns typed data or throws SchemaValidationError', () => {
    const data = validateEventData(OliveEventType.EMPLOYEE_CREATED, {
      employee_id: 'emp_123',
      email: 'john@example.com',
      first_name: 'John',
      last_name: 'Doe',
    })
    expectTypeOf(data).toEqualTypeOf<EmployeeCreatedData>()
    expect(() => validateEventData('employee.created', { employee_id: 'emp_123' })).toThrow(
      SchemaValidationError,
    )
  })
})

describe('olive - factories', () => {
  it.each(oliveCatalog.events.map((d) => [d.type, d] as const))(
    'olive - the %s factory output validates',
    (_, def) => {
      const create = factories[def.type.split('.')[0]!]!
      const example = (def.schema.examples as never[])[0]!
      const event = create(def.type as never, example, {
        source: 'hr-service',
        sourceVersion: '1.0.0',
      })
      expect(event).toMatchObject({
        specversion: '1.0',
        type: def.type,
        source: 'hr-service',
        dataschema: def.id,
      })
      expect(event.extensions).toEqual({ sourceversion: '1.0.0' })
      expect(event.subject).toBe((example as Record<string, string>)[def.key!])
      expect(event.partitionkey).toBe(event.subject)
      expect(
        getSchemaRegistry().check(event.type, event.data, { dataschema: event.dataschema }).ok,
      ).toBe(true)
    },
  )

  it('olive - factories are typed by family and refuse other families', () => {
    const data = { employee_id: 'emp_1', email: 'a@b.co', first_name: 'A', last_name: 'B' }
    const event = createEmployeeEvent(OliveEventType.EMPLOYEE_CREATED, data, { source: 'hr' })
    expectTypeOf(event).toEqualTypeOf<OliveEvent<'employee.created'>>()
    expectTypeOf(event.data).toEqualTypeOf<EmployeeCreatedData | undefined>()
    const hr = { source: 'hr' }
    // @ts-expect-error leave events do not come from the employee factory
    const wrongFamily = () => createEmployeeEvent('leave.created', {}, hr)
    expect(wrongFamily).toThrow(ConfigurationError)
    const partial = { employee_id: 'e', email: 'a@b.co', first_name: 'A' }
    // @ts-expect-error last_name is required by the schema, so by the type too
    const missing = () => createEmployeeEvent('employee.created', partial, hr)
    expect(missing).toThrow(SchemaValidationError)
  })

  it('olive - metadata maps onto envelope attributes', () => {
    const event = createOliveEvent(
      'task.created',
      { task_id: 't1', task_type: 'export' },
      {
        source: 'ops',
        userId: 'u1',
        tenantId: 'acme',
        correlationId: 'c1',
        tags: ['nightly', 'nightly', 'hr'],
      },
    )
    expect(event).toMatchObject({
      tenantid: 'acme',
      correlationid: 'c1',
      extensions: { userid: 'u1', tags: 'nightly,hr' },
    })
  })
})

describe('olive - OliveEvent helpers', () => {
  const base = createEmployeeEvent(
    'employee.deleted',
    { employee_id: 'emp_9' },
    { source: 'hr-service', sourceVersion: '2.1.0' },
  )

  it('olive - withCorrelationId, withUserContext and addTag return new envelopes', () => {
    const event = addTag(
      addTag(
        withUserContext(withCorrelationId(base, 'req-1'), { userId: 'u7', tenantId: 't1' }),
        'gdpr',
      ),
      'hr',
    )
    expect(event).toMatchObject({
      correlationid: 'req-1',
      tenantid: 't1',
      extensions: { userid: 'u7', tags: 'gdpr,hr', sourceversion: '2.1.0' },
    })
    expect(tagsOf(addTag(event, 'gdpr'))).toEqual(['gdpr', 'hr'])
    expect(base.correlationid).toBeUndefined()
    expect(base.extensions).toEqual({ sourceversion: '2.1.0' })
    expect(() => addTag(base, 'a,b')).toThrow(ConfigurationError)
    expect(() => withCorrelationId(base, '')).toThrow(ConfigurationError)
  })

  it('olive - converts to and from the Python SDK JSON shape', () => {
    const event = addTag(
      withUserContext(withCorrelationId(base, 'req-1'), { userId: 'u7', tenantId: 't1' }),
      'gdpr',
    )
    const json = toOliveJson(event)
    expect(json).toEqual({
      event_id: event.id,
      event_type: 'employee.deleted',
      data: { employee_id: 'emp_9' },
      metadata: {
        source_service: 'hr-service',
        source_version: '2.1.0',
        correlation_id: 'req-1',
        user_id: 'u7',
        tenant_id: 't1',
        tags: ['gdpr'],
      },
      timestamp: event.time,
    })
    const back = fromOliveJson(JSON.parse(JSON.stringify(json)))
    expect(toOliveJson(back)).toEqual(json)
    expect(() => fromOliveJson({ event_id: 'x' } as never)).toThrow(ConfigurationError)
  })
})
