import { PGlite } from '@electric-sql/pglite'
import { pgliteDriver } from '@switchyard/event-store'
import { expect, it } from 'vitest'
import { decide, EmployeeRuleError, initialEmployee } from '../src/employee.js'
import { runExample } from '../src/example.js'

it('example - the employee is rebuilt from her events, the leave table follows, the events reach the subscriber through the outbox', async () => {
  const db = new PGlite()
  const lines: string[] = []
  const result = await runExample(pgliteDriver(db), (line) => lines.push(line))
  await db.close()
  expect(result.version).toBe(4)
  expect(result.employee.hired).toBe(true)
  expect(Object.values(result.employee.leaves)).toEqual(['approved', 'requested'])
  expect(result.leaveRequests).toEqual([
    expect.objectContaining({ status: 'approved', approved_by: 'grace' }),
    expect.objectContaining({ status: 'requested', approved_by: null }),
  ])
  expect(result.rebuilt).toEqual(result.leaveRequests)
  expect(result.notified).toEqual([
    'employee.created',
    'leave.created',
    'leave.created',
    'leave.approved',
  ])
  expect(lines.some((l) => l.startsWith('notification service: leave.approved'))).toBe(true)
})

it('example - the deciders refuse what the rules do not allow', () => {
  expect(() =>
    decide.requestLeave(initialEmployee(), { id: 'l', type: 'x', start: '', end: '' }),
  ).toThrow(EmployeeRuleError)
  expect(() => decide.approveLeave(initialEmployee(), 'l', 'boss')).toThrow(EmployeeRuleError)
})
