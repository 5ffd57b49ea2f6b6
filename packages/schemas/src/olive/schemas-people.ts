import { eventSpec } from '../catalog.js'
import { date, dateTime, email, fieldNames, identifier, label, text } from '../schema-parts.js'

// Olive's payloads are closed (`additionalProperties: false`): they are built by factories from
// known fields, so an unknown key is a typo or a leak of internal data. A new optional field is
// a new schema version, which the compatibility check accepts.

const employeeFields = {
  email,
  first_name: label,
  last_name: label,
  department: label,
  position: label,
  manager_id: identifier,
  hire_date: date,
  employment_type: { enum: ['full_time', 'part_time', 'contractor', 'intern'] },
  phone: { type: 'string', maxLength: 32, pattern: '^\\+?[0-9 ()-]{3,32}$' },
} as const

/** `employee.created`: a person joined. */
export const employeeCreated = eventSpec({
  type: 'employee.created',
  version: 1,
  topic: 'employees.events',
  summary: 'An employee record was created.',
  key: 'employee_id',
  schema: {
    type: 'object',
    properties: { employee_id: identifier, ...employeeFields },
    required: ['employee_id', 'email', 'first_name', 'last_name'],
    additionalProperties: false,
    examples: [
      {
        employee_id: 'emp_123',
        email: 'john@example.com',
        first_name: 'John',
        last_name: 'Doe',
        department: 'Engineering',
      },
    ],
  },
})

/** `employee.updated`: some fields of an employee changed. */
export const employeeUpdated = eventSpec({
  type: 'employee.updated',
  version: 1,
  topic: 'employees.events',
  summary: 'Fields of an employee record changed; `changes` holds the new values.',
  key: 'employee_id',
  schema: {
    type: 'object',
    properties: {
      employee_id: identifier,
      changes: {
        type: 'object',
        properties: employeeFields,
        additionalProperties: false,
        minProperties: 1,
      },
      changed_fields: fieldNames,
      updated_by: identifier,
    },
    required: ['employee_id', 'changes'],
    additionalProperties: false,
    examples: [
      { employee_id: 'emp_123', changes: { department: 'Platform' }, updated_by: 'usr_9' },
    ],
  },
})

/** `employee.deleted`: an employee record was removed. */
export const employeeDeleted = eventSpec({
  type: 'employee.deleted',
  version: 1,
  topic: 'employees.events',
  summary: 'An employee record was deleted (offboarding or erasure).',
  key: 'employee_id',
  schema: {
    type: 'object',
    properties: {
      employee_id: identifier,
      reason: text,
      effective_date: date,
      deleted_by: identifier,
    },
    required: ['employee_id'],
    additionalProperties: false,
    examples: [{ employee_id: 'emp_123', reason: 'Resigned', effective_date: '2024-02-29' }],
  },
})

const leaveKeys = { leave_id: identifier, employee_id: identifier } as const

/** `leave.created`: a leave request was filed. */
export const leaveCreated = eventSpec({
  type: 'leave.created',
  version: 1,
  topic: 'leaves.events',
  summary: 'An employee requested leave.',
  key: 'leave_id',
  schema: {
    type: 'object',
    properties: {
      ...leaveKeys,
      leave_type: { enum: ['annual', 'sick', 'parental', 'unpaid', 'other'] },
      start_date: date,
      end_date: date,
      days: { type: 'number', exclusiveMinimum: 0, maximum: 366 },
      reason: text,
    },
    required: ['leave_id', 'employee_id', 'leave_type', 'start_date', 'end_date'],
    additionalProperties: false,
    examples: [
      {
        leave_id: 'lv_77',
        employee_id: 'emp_123',
        leave_type: 'annual',
        start_date: '2024-07-01',
        end_date: '2024-07-12',
        days: 10,
      },
    ],
  },
})

/** `leave.approved`: a leave request was approved. */
export const leaveApproved = eventSpec({
  type: 'leave.approved',
  version: 1,
  topic: 'leaves.events',
  summary: 'A leave request was approved.',
  key: 'leave_id',
  schema: {
    type: 'object',
    properties: { ...leaveKeys, approved_by: identifier, approved_at: dateTime, comment: text },
    required: ['leave_id', 'employee_id', 'approved_by'],
    additionalProperties: false,
    examples: [
      {
        leave_id: 'lv_77',
        employee_id: 'emp_123',
        approved_by: 'emp_7',
        approved_at: '2024-06-03T09:00:00Z',
      },
    ],
  },
})

/** `leave.rejected`: a leave request was turned down, always with a reason. */
export const leaveRejected = eventSpec({
  type: 'leave.rejected',
  version: 1,
  topic: 'leaves.events',
  summary: 'A leave request was rejected.',
  key: 'leave_id',
  schema: {
    type: 'object',
    properties: { ...leaveKeys, rejected_by: identifier, reason: text },
    required: ['leave_id', 'employee_id', 'rejected_by', 'reason'],
    additionalProperties: false,
    examples: [
      { leave_id: 'lv_78', employee_id: 'emp_123', rejected_by: 'emp_7', reason: 'Release week' },
    ],
  },
})
