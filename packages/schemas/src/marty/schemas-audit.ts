import { eventSpec } from '../catalog.js'
import { attributes, dateTime, identifier, label, text, uuid } from '../schema-parts.js'

// Every audit event shares one shape (who did what to which resource, with what outcome) so
// compliance tooling can read any of them; each type then requires what it cannot do without.
// Closed: an audit record with unexpected fields is a bug worth catching before it is stored.

const base = {
  action: label,
  resource_type: label,
  resource_id: identifier,
  outcome: { enum: ['success', 'failure'] },
  service: label,
  user_id: identifier,
  severity: { enum: ['info', 'warning', 'error', 'critical'] },
  ip_address: { type: 'string', maxLength: 45 },
  session_id: uuid,
  details: attributes,
} as const

/** `marty.audit.data_created`: a record was created. */
export const dataCreated = eventSpec({
  type: 'marty.audit.data_created',
  version: 1,
  topic: 'marty.{service}.audit.data_created',
  summary: 'A record was created.',
  key: 'resource_id',
  schema: {
    type: 'object',
    properties: base,
    required: ['action', 'resource_type', 'resource_id'],
    additionalProperties: false,
    examples: [
      { action: 'create_user', resource_type: 'user', resource_id: 'user-123', outcome: 'success' },
    ],
  },
})

/** `marty.audit.data_updated`: a record was changed. */
export const dataUpdated = eventSpec({
  type: 'marty.audit.data_updated',
  version: 1,
  topic: 'marty.{service}.audit.data_updated',
  summary: 'A record was updated.',
  key: 'resource_id',
  schema: {
    type: 'object',
    properties: {
      ...base,
      changed_fields: { type: 'array', items: label, maxItems: 100, uniqueItems: true },
    },
    required: ['action', 'resource_type', 'resource_id'],
    additionalProperties: false,
    examples: [
      {
        action: 'update_user',
        resource_type: 'user',
        resource_id: 'user-123',
        changed_fields: ['email'],
      },
    ],
  },
})

/** `marty.audit.data_deleted`: a record was removed. */
export const dataDeleted = eventSpec({
  type: 'marty.audit.data_deleted',
  version: 1,
  topic: 'marty.{service}.audit.data_deleted',
  summary: 'A record was deleted.',
  key: 'resource_id',
  schema: {
    type: 'object',
    properties: base,
    required: ['action', 'resource_type', 'resource_id'],
    additionalProperties: false,
    examples: [
      { action: 'delete_user', resource_type: 'user', resource_id: 'user-123', user_id: 'admin-1' },
    ],
  },
})

/** `marty.audit.user_login`: a user signed in. */
export const userLogin = eventSpec({
  type: 'marty.audit.user_login',
  version: 1,
  topic: 'marty.{service}.audit.user_login',
  summary: 'A user signed in (or failed to: `outcome`).',
  key: 'user_id',
  schema: {
    type: 'object',
    properties: base,
    required: ['action', 'user_id', 'outcome'],
    additionalProperties: false,
    examples: [
      { action: 'login', user_id: 'user-123', outcome: 'success', ip_address: '198.51.100.4' },
    ],
  },
})

/** `marty.audit.user_logout`: a user signed out. */
export const userLogout = eventSpec({
  type: 'marty.audit.user_logout',
  version: 1,
  topic: 'marty.{service}.audit.user_logout',
  summary: 'A user signed out.',
  key: 'user_id',
  schema: {
    type: 'object',
    properties: base,
    required: ['action', 'user_id'],
    additionalProperties: false,
    examples: [{ action: 'logout', user_id: 'user-123' }],
  },
})

/** `marty.audit.permission_denied`: an action was refused for lack of permission. */
export const permissionDenied = eventSpec({
  type: 'marty.audit.permission_denied',
  version: 1,
  topic: 'marty.{service}.audit.permission_denied',
  summary: 'An action was refused for lack of permission.',
  key: 'user_id',
  schema: {
    type: 'object',
    properties: { ...base, required_permission: label, reason: text },
    required: ['action', 'resource_type', 'user_id'],
    additionalProperties: false,
    examples: [
      {
        action: 'read_certificate',
        resource_type: 'certificate',
        user_id: 'user-9',
        required_permission: 'cert:read',
      },
    ],
  },
})

const certificate = {
  ...base,
  serial_number: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[0-9A-Fa-f:]+$' },
  subject_dn: { type: 'string', minLength: 1, maxLength: 1_024 },
  not_after: dateTime,
} as const

/** `marty.audit.certificate_issued`: a certificate was signed and issued. */
export const certificateIssued = eventSpec({
  type: 'marty.audit.certificate_issued',
  version: 1,
  topic: 'marty.{service}.audit.certificate_issued',
  summary: 'A certificate was issued.',
  key: 'resource_id',
  schema: {
    type: 'object',
    properties: certificate,
    required: ['action', 'resource_type', 'resource_id', 'serial_number'],
    additionalProperties: false,
    examples: [
      {
        action: 'issue_certificate',
        resource_type: 'certificate',
        resource_id: 'cert-55',
        serial_number: '4F:9A:01',
        not_after: '2026-01-01T00:00:00Z',
      },
    ],
  },
})

/** `marty.audit.certificate_revoked`: a certificate was revoked, with the reason. */
export const certificateRevoked = eventSpec({
  type: 'marty.audit.certificate_revoked',
  version: 1,
  topic: 'marty.{service}.audit.certificate_revoked',
  summary: 'A certificate was revoked.',
  key: 'resource_id',
  schema: {
    type: 'object',
    properties: {
      ...certificate,
      revocation_reason: {
        enum: [
          'unspecified',
          'key_compromise',
          'ca_compromise',
          'affiliation_changed',
          'superseded',
          'cessation_of_operation',
        ],
      },
    },
    required: ['action', 'resource_type', 'resource_id', 'serial_number', 'revocation_reason'],
    additionalProperties: false,
    examples: [
      {
        action: 'revoke_certificate',
        resource_type: 'certificate',
        resource_id: 'cert-55',
        serial_number: '4F:9A:01',
        revocation_reason: 'key_compromise',
      },
    ],
  },
})

/** `marty.audit.service_started`: a service instance came up. */
export const serviceStarted = eventSpec({
  type: 'marty.audit.service_started',
  version: 1,
  topic: 'marty.{service}.audit.service_started',
  summary: 'A service instance started.',
  key: 'service',
  schema: {
    type: 'object',
    properties: { ...base, version: { type: 'string', maxLength: 64 }, host: label },
    required: ['action', 'service'],
    additionalProperties: false,
    examples: [{ action: 'start', service: 'user-service', version: '1.4.2', host: 'pod-7f9c' }],
  },
})

/** `marty.audit.service_error`: a service hit an error worth an audit record. */
export const serviceError = eventSpec({
  type: 'marty.audit.service_error',
  version: 1,
  topic: 'marty.{service}.audit.service_error',
  summary: 'A service reported an error.',
  key: 'service',
  schema: {
    type: 'object',
    properties: { ...base, error_message: text, error_code: { type: 'string', maxLength: 64 } },
    required: ['action', 'service', 'error_message', 'severity'],
    additionalProperties: false,
    examples: [
      {
        action: 'sync',
        service: 'trust-service',
        error_message: 'CRL fetch timed out',
        severity: 'error',
      },
    ],
  },
})
