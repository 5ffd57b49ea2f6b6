import { SchemaValidationError } from '@switchyard/core'
import { describe, expect, it } from 'vitest'
import { anumateCatalog } from './anumate/catalog.js'
import { getSchemaRegistry as anumate } from './anumate/index.js'
import type { Catalog } from './catalog.js'
import { martyCatalog } from './marty/catalog.js'
import { getSchemaRegistry as marty } from './marty/index.js'
import { createEmployeeEvent, getSchemaRegistry as olive, oliveCatalog } from './olive/index.js'
import type { ReadonlySchemaRegistry } from './registry.js'
import { createSchemaRegistry } from './registry.js'

const TEN_MB = 10 * 1024 * 1024
const employee = {
  employee_id: 'emp_1',
  email: 'ada@example.com',
  first_name: 'Ada',
  last_name: 'Lovelace',
}

function failure(fn: () => unknown): SchemaValidationError {
  try {
    fn()
  } catch (error) {
    if (error instanceof SchemaValidationError) return error
    throw new Error(`expected a SchemaValidationError, got ${String(error)}`)
  }
  throw new Error('expected a SchemaValidationError, nothing was thrown')
}

function nested(depth: number, leaf: unknown = 'deep'): Record<string, unknown> {
  let value: unknown = leaf
  for (let i = 0; i < depth; i++) value = { a: value }
  return value as Record<string, unknown>
}

describe('bad input - named paths', () => {
  const registry = olive()

  it('bad input - wrong types', () => {
    const error = failure(() =>
      registry.validate('employee.created', { ...employee, first_name: 42, hire_date: true }),
    )
    expect(error.issues).toEqual([
      { path: 'data.first_name', message: 'must be string' },
      { path: 'data.hire_date', message: 'must be string' },
    ])
  })

  it('bad input - missing required fields', () => {
    const error = failure(() => registry.validate('leave.rejected', { leave_id: 'lv_1' }))
    expect(error.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'data.employee_id: is required',
      'data.rejected_by: is required',
      'data.reason: is required',
    ])
  })

  it('bad input - bad formats: email, date-time, uuid, date', () => {
    expect(
      failure(() => registry.validate('employee.created', { ...employee, email: 'ada@' })).issues,
    ).toEqual([{ path: 'data.email', message: 'must match format "email"' }])
    const approved = {
      leave_id: 'lv_1',
      employee_id: 'emp_1',
      approved_by: 'emp_2',
      approved_at: '2024-13-01 25:00',
    }
    expect(failure(() => registry.validate('leave.approved', approved)).issues).toEqual([
      { path: 'data.approved_at', message: 'must match format "date-time"' },
    ])
    const backup = {
      backup_id: 'not-a-uuid',
      status: 'success',
      completed_at: '2024-01-15T03:12:44Z',
      size_bytes: 1,
    }
    expect(failure(() => registry.validate('system.backup_completed', backup)).issues).toEqual([
      { path: 'data.backup_id', message: 'must match format "uuid"' },
    ])
    const leave = {
      leave_id: 'l',
      employee_id: 'e',
      leave_type: 'sick',
      start_date: '2024-02-30',
      end_date: '2024-03-01',
    }
    expect(failure(() => registry.validate('leave.created', leave)).issues).toEqual([
      { path: 'data.start_date', message: 'must match format "date"' },
    ])
  })

  it('bad input - extra fields where forbidden, at any depth', () => {
    const update = { employee_id: 'emp_1', changes: { department: 'R&D', salary: 1 }, ssn: 'x' }
    expect(failure(() => registry.validate('employee.updated', update)).issues).toEqual([
      { path: 'data.ssn', message: 'is not an allowed property' },
      { path: 'data.changes.salary', message: 'is not an allowed property' },
    ])
  })

  it('bad input - enums and dependent fields name the allowed values', () => {
    const asset = { asset_id: 'a', asset_type: 'spaceship', name: 'X', value: 10 }
    expect(failure(() => registry.validate('asset.created', asset)).issues).toEqual([
      {
        path: 'data.asset_type',
        message:
          'must be one of "laptop", "monitor", "phone", "license", "vehicle", "furniture", "other"',
      },
      { path: 'data.currency', message: 'is required when "value" is present' },
    ])
  })

  it('bad input - a 10 MB payload is rejected wherever it hides', () => {
    const blob = 'x'.repeat(TEN_MB)
    expect(
      failure(() => registry.validate('employee.created', { ...employee, first_name: blob }))
        .issues,
    ).toEqual([{ path: 'data.first_name', message: 'must NOT have more than 200 characters' }])
    const task = { task_id: 't', task_type: 'x', payload: { note: blob } }
    expect(failure(() => registry.validate('task.created', task)).issues).toEqual([
      { path: 'data.payload.note', message: 'must NOT have more than 1000 characters' },
    ])
    const many = Object.fromEntries(
      Array.from({ length: 100_000 }, (_, i) => [`k${i}`, 'x'.repeat(100)]),
    )
    expect(
      failure(() => registry.validate('task.created', { ...task, payload: many })).issues[0],
    ).toEqual({
      path: 'data.payload',
      message: 'must NOT have more than 64 properties',
    })
    const domain = {
      aggregate_type: 'user',
      aggregate_id: 'u1',
      event_type: 'imported',
      event_data: { rows: [blob] },
    }
    expect(failure(() => marty().validate('marty.domain.user.imported', domain)).issues).toEqual([
      { path: 'data.event_data.rows[0]', message: 'must NOT have more than 10000 characters' },
    ])
    const approvers = Array.from({ length: 200_000 }, (_, i) => `usr_${i}`)
    const approval = { approval_id: crypto.randomUUID(), requested_by: 'o', approvers }
    expect(
      failure(() => anumate().validate('com.anumate.approval.requested', approval)).issues,
    ).toEqual([{ path: 'data.approvers', message: 'must NOT have more than 100 items' }])
  })

  it('bad input - deeply nested input is rejected at the depth limit', () => {
    const deep = nested(100_000)
    const domain = { aggregate_type: 'user', aggregate_id: 'u1', event_type: 'x', event_data: deep }
    expect(failure(() => marty().validate('marty.domain.user.x', domain)).issues).toEqual([
      { path: 'data.event_data.a.a.a.a', message: 'must be string,number,boolean,null' },
    ])
    const task = { task_id: 't', task_type: 'x', payload: deep }
    expect(failure(() => olive().validate('task.created', task)).issues).toEqual([
      { path: 'data.payload.a', message: 'must be string,number,boolean,null' },
    ])
    expect(
      failure(() => olive().validate('employee.created', { ...employee, extra: deep })).issues,
    ).toEqual([{ path: 'data.extra', message: 'is not an allowed property' }])
  })

  it('bad input - a recursive custom schema fed deeper input than the stack reports it', () => {
    const tree = { type: 'object', properties: { a: { $ref: '#' } }, additionalProperties: false }
    const registry = createSchemaRegistry().register('tree', tree)
    expect(registry.validate('tree', nested(50, {}))).toBeDefined()
    expect(failure(() => registry.validate('tree', nested(1_000_000, {}))).issues).toEqual([
      { path: 'data', message: 'is nested too deeply to validate' },
    ])
  })

  it('bad input - factories throw the same SchemaValidationError', () => {
    const error = failure(() =>
      createEmployeeEvent(
        'employee.created',
        { ...employee, email: 'x' },
        { source: 'hr-service' },
      ),
    )
    expect(error.eventType).toBe('employee.created')
    expect(error.issues).toEqual([{ path: 'data.email', message: 'must match format "email"' }])
  })
})

// Anything at all, for every event type: the only thing that may escape is SchemaValidationError.
describe('bad input - nothing throws anything but SchemaValidationError', () => {
  const circular: Record<string, unknown> = { employee_id: 'x' }
  circular.self = circular
  const hostile: unknown[] = [
    undefined,
    null,
    0,
    Number.NaN,
    -1n,
    '',
    'x'.repeat(1_000),
    Symbol('s'),
    () => 1,
    [],
    [1, 2, 3],
    new Date(),
    new Map([['a', 1]]),
    Object.create(null),
    circular,
    nested(10_000),
    Object.defineProperty({}, 'employee_id', {
      enumerable: true,
      get() {
        throw new Error('getter exploded')
      },
    }),
    new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('proxy exploded')
        },
      },
    ),
  ]
  const catalogs: [Catalog, ReadonlySchemaRegistry][] = [
    [oliveCatalog, olive()],
    [anumateCatalog, anumate()],
    [martyCatalog, marty()],
  ]

  it.each(catalogs.map(([c, r]) => [c.name, c, r] as const))(
    'bad input - hostile values, %s catalog',
    (_, c, r) => {
      for (const def of c.events) {
        const type = def.type.replaceAll('*', 'x')
        for (const value of hostile) {
          const error = failure(() => r.validate(type, value))
          expect(error.issues.length).toBeGreaterThan(0)
          for (const issue of error.issues) expect(issue.path).toMatch(/^data/)
        }
      }
    },
  )

  it.each(catalogs.map(([c, r]) => [c.name, c, r] as const))(
    'bad input - mutated examples, %s catalog',
    (_, c, r) => {
      let seed = 42
      const random = () => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
        return seed / 2 ** 31
      }
      const replacements = [
        null,
        1.5,
        -1,
        '',
        'x'.repeat(20_000),
        true,
        [],
        {},
        [null],
        { a: { b: {} } },
      ]
      for (const def of c.events) {
        const example = (def.schema.examples as Record<string, unknown>[])[0]!
        for (let round = 0; round < 30; round++) {
          const mutated: Record<string, unknown> = structuredClone(example)
          const keys = Object.keys(mutated)
          const key = keys[Math.floor(random() * keys.length)]!
          if (random() < 0.3) delete mutated[key]
          else
            mutated[random() < 0.8 ? key : `extra_${round}`] =
              replacements[Math.floor(random() * replacements.length)]
          try {
            r.validate(def.type.replaceAll('*', 'x'), mutated)
          } catch (error) {
            expect(error).toBeInstanceOf(SchemaValidationError)
          }
        }
      }
    },
  )
})
