import { eventSpec } from '../catalog.js'
import {
  attributes,
  date,
  dateTime,
  email,
  fieldNames,
  identifier,
  label,
  text,
  uuid,
} from '../schema-parts.js'

const clientFields = {
  name: label,
  email,
  industry: label,
  contact_name: label,
  phone: { type: 'string', maxLength: 32, pattern: '^\\+?[0-9 ()-]{3,32}$' },
  status: { enum: ['prospect', 'active', 'inactive'] },
} as const

/** `client.created`: a customer account was opened. */
export const clientCreated = eventSpec({
  type: 'client.created',
  version: 1,
  topic: 'clients.events',
  summary: 'A client (customer account) was created.',
  key: 'client_id',
  schema: {
    type: 'object',
    properties: { client_id: identifier, ...clientFields },
    required: ['client_id', 'name'],
    additionalProperties: false,
    examples: [
      { client_id: 'cli_42', name: 'Acme Corp', email: 'ops@acme.example', status: 'active' },
    ],
  },
})

/** `client.updated`: some fields of a client changed. */
export const clientUpdated = eventSpec({
  type: 'client.updated',
  version: 1,
  topic: 'clients.events',
  summary: 'Fields of a client changed; `changes` holds the new values.',
  key: 'client_id',
  schema: {
    type: 'object',
    properties: {
      client_id: identifier,
      changes: {
        type: 'object',
        properties: clientFields,
        additionalProperties: false,
        minProperties: 1,
      },
      changed_fields: fieldNames,
    },
    required: ['client_id', 'changes'],
    additionalProperties: false,
    examples: [{ client_id: 'cli_42', changes: { status: 'inactive' } }],
  },
})

/** `client.deleted`: a client was removed. */
export const clientDeleted = eventSpec({
  type: 'client.deleted',
  version: 1,
  topic: 'clients.events',
  summary: 'A client was deleted.',
  key: 'client_id',
  schema: {
    type: 'object',
    properties: { client_id: identifier, reason: text, deleted_by: identifier },
    required: ['client_id'],
    additionalProperties: false,
    examples: [{ client_id: 'cli_42', reason: 'Contract ended' }],
  },
})

/** `asset.created`: equipment or a licence entered the inventory. */
export const assetCreated = eventSpec({
  type: 'asset.created',
  version: 1,
  topic: 'assets.events',
  summary: 'An asset (equipment, licence) was added to the inventory.',
  key: 'asset_id',
  schema: {
    type: 'object',
    properties: {
      asset_id: identifier,
      asset_type: {
        enum: ['laptop', 'monitor', 'phone', 'license', 'vehicle', 'furniture', 'other'],
      },
      name: label,
      serial_number: { type: 'string', minLength: 1, maxLength: 64 },
      purchase_date: date,
      value: { type: 'number', minimum: 0 },
      currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    },
    required: ['asset_id', 'asset_type', 'name'],
    additionalProperties: false,
    dependentRequired: { value: ['currency'] },
    examples: [
      {
        asset_id: 'ast_9',
        asset_type: 'laptop',
        name: 'MacBook Pro 14',
        value: 2399,
        currency: 'EUR',
      },
    ],
  },
})

/** `asset.assigned`: an asset was handed to an employee. */
export const assetAssigned = eventSpec({
  type: 'asset.assigned',
  version: 1,
  topic: 'assets.events',
  summary: 'An asset was assigned to an employee.',
  key: 'asset_id',
  schema: {
    type: 'object',
    properties: {
      asset_id: identifier,
      employee_id: identifier,
      assigned_by: identifier,
      assigned_at: dateTime,
      expected_return_date: date,
    },
    required: ['asset_id', 'employee_id'],
    additionalProperties: false,
    examples: [{ asset_id: 'ast_9', employee_id: 'emp_123', assigned_at: '2024-01-15T10:30:00Z' }],
  },
})

/** `asset.returned`: an asset came back, with its condition. */
export const assetReturned = eventSpec({
  type: 'asset.returned',
  version: 1,
  topic: 'assets.events',
  summary: 'An employee returned an asset.',
  key: 'asset_id',
  schema: {
    type: 'object',
    properties: {
      asset_id: identifier,
      employee_id: identifier,
      returned_at: dateTime,
      condition: { enum: ['good', 'worn', 'damaged', 'lost'] },
      notes: text,
    },
    required: ['asset_id', 'employee_id'],
    additionalProperties: false,
    examples: [{ asset_id: 'ast_9', employee_id: 'emp_123', condition: 'good' }],
  },
})

const health = { enum: ['healthy', 'degraded', 'unhealthy'] } as const

/** `system.health_check`: the result of a periodic health probe. */
export const systemHealthCheck = eventSpec({
  type: 'system.health_check',
  version: 1,
  topic: 'system.events',
  summary: 'A service reported the result of a health check.',
  key: 'service',
  schema: {
    type: 'object',
    properties: {
      service: label,
      status: health,
      checks: {
        type: 'object',
        maxProperties: 64,
        propertyNames: { maxLength: 64 },
        additionalProperties: health,
      },
      response_time_ms: { type: 'number', minimum: 0 },
      checked_at: dateTime,
    },
    required: ['service', 'status'],
    additionalProperties: false,
    examples: [
      {
        service: 'hr-service',
        status: 'degraded',
        checks: { database: 'healthy', kafka: 'degraded' },
      },
    ],
  },
})

/** `system.backup_completed`: a backup run finished. */
export const systemBackupCompleted = eventSpec({
  type: 'system.backup_completed',
  version: 1,
  topic: 'system.events',
  summary: 'A backup finished; `status` says whether everything was copied.',
  key: 'backup_id',
  schema: {
    type: 'object',
    properties: {
      backup_id: uuid,
      status: { enum: ['success', 'partial'] },
      started_at: dateTime,
      completed_at: dateTime,
      size_bytes: { type: 'integer', minimum: 0 },
      location: { type: 'string', minLength: 1, maxLength: 1_024 },
    },
    required: ['backup_id', 'status', 'completed_at', 'size_bytes'],
    additionalProperties: false,
    examples: [
      {
        backup_id: '3f2b8c1e-9d4a-4e7b-8a6f-1c2d3e4f5a6b',
        status: 'success',
        completed_at: '2024-01-15T03:12:44Z',
        size_bytes: 734003200,
      },
    ],
  },
})

/** `audit.user_login`: a sign-in attempt, successful or not. */
export const auditUserLogin = eventSpec({
  type: 'audit.user_login',
  version: 1,
  topic: 'audit.events',
  summary: 'A user signed in, or failed to.',
  key: 'user_id',
  schema: {
    type: 'object',
    properties: {
      user_id: identifier,
      email,
      success: { type: 'boolean' },
      method: { enum: ['password', 'sso', 'mfa', 'api_key'] },
      ip_address: {
        anyOf: [
          { type: 'string', format: 'ipv4' },
          { type: 'string', format: 'ipv6' },
        ],
      },
      user_agent: { type: 'string', maxLength: 512 },
      session_id: uuid,
      failure_reason: text,
    },
    required: ['user_id', 'success'],
    additionalProperties: false,
    examples: [{ user_id: 'usr_9', success: true, method: 'sso', ip_address: '203.0.113.7' }],
  },
})

/** `audit.permission_change`: a role or permission was granted or revoked. */
export const auditPermissionChange = eventSpec({
  type: 'audit.permission_change',
  version: 1,
  topic: 'audit.events',
  summary: "A user's permission or role was granted or revoked.",
  key: 'user_id',
  schema: {
    type: 'object',
    properties: {
      user_id: identifier,
      changed_by: identifier,
      permission: label,
      action: { enum: ['granted', 'revoked'] },
      resource: label,
      previous_role: label,
      new_role: label,
    },
    required: ['user_id', 'changed_by', 'permission', 'action'],
    additionalProperties: false,
    examples: [
      { user_id: 'usr_9', changed_by: 'usr_1', permission: 'leave:approve', action: 'granted' },
    ],
  },
})

/** `task.created`: a background task was queued. */
export const taskCreated = eventSpec({
  type: 'task.created',
  version: 1,
  topic: 'system.tasks',
  summary: 'A background task was queued for a worker.',
  key: 'task_id',
  schema: {
    type: 'object',
    properties: {
      task_id: identifier,
      task_type: label,
      priority: { enum: ['low', 'normal', 'high'] },
      payload: attributes,
      scheduled_for: dateTime,
      created_by: identifier,
    },
    required: ['task_id', 'task_type'],
    additionalProperties: false,
    examples: [
      {
        task_id: 'tsk_1',
        task_type: 'payroll.export',
        priority: 'high',
        payload: { month: '2024-01' },
      },
    ],
  },
})
