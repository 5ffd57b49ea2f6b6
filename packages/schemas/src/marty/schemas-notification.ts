import { eventSpec } from '../catalog.js'
import { attributes, dateTime, identifier, label, text, uuid } from '../schema-parts.js'

// One envelope for every notification (who receives what, through which channels); the
// per-type fields say what the template needs. Closed, like the audit events.

const base = {
  notification_id: uuid,
  recipient_type: { enum: ['user', 'group', 'role', 'service', 'all'] },
  recipient_ids: {
    type: 'array',
    items: identifier,
    minItems: 1,
    maxItems: 1_000,
    uniqueItems: true,
  },
  subject: label,
  message: text,
  priority: { enum: ['low', 'normal', 'high', 'urgent'] },
  channels: {
    type: 'array',
    items: { enum: ['email', 'sms', 'push', 'in_app', 'webhook'] },
    minItems: 1,
    uniqueItems: true,
  },
  template_id: identifier,
  metadata: attributes,
} as const

const required = ['recipient_type', 'recipient_ids', 'subject', 'message'] as const
const to = { recipient_type: 'user', recipient_ids: ['user-123'] } as const

/** `marty.notification.user_welcome`: greet a new user. */
export const userWelcome = eventSpec({
  type: 'marty.notification.user_welcome',
  version: 1,
  topic: 'marty.{service}.notification.user_welcome',
  summary: 'Welcome a newly registered user.',
  key: 'notification_id',
  schema: {
    type: 'object',
    properties: base,
    required,
    additionalProperties: false,
    examples: [
      { ...to, subject: 'Welcome!', message: 'Account created successfully', channels: ['email'] },
    ],
  },
})

/** `marty.notification.user_password_reset`: send a reset link. */
export const userPasswordReset = eventSpec({
  type: 'marty.notification.user_password_reset',
  version: 1,
  topic: 'marty.{service}.notification.user_password_reset',
  summary: 'Send a password reset link; it stops working at `reset_expires_at`.',
  key: 'notification_id',
  schema: {
    type: 'object',
    properties: {
      ...base,
      reset_url: { type: 'string', format: 'uri', maxLength: 2_048 },
      reset_expires_at: dateTime,
    },
    required: [...required, 'reset_url', 'reset_expires_at'],
    additionalProperties: false,
    examples: [
      {
        ...to,
        subject: 'Reset your password',
        message: 'Use the link below within 30 minutes.',
        reset_url: 'https://id.example.com/reset?token=abc',
        reset_expires_at: '2024-01-15T11:00:00Z',
        priority: 'high',
      },
    ],
  },
})

const certificate = { ...base, certificate_id: identifier, serial_number: label } as const

/** `marty.notification.certificate_expiring`: warn before a certificate expires. */
export const certificateExpiring = eventSpec({
  type: 'marty.notification.certificate_expiring',
  version: 1,
  topic: 'marty.{service}.notification.certificate_expiring',
  summary: 'A certificate expires soon.',
  key: 'certificate_id',
  schema: {
    type: 'object',
    properties: {
      ...certificate,
      expires_at: dateTime,
      days_remaining: { type: 'integer', minimum: 0 },
    },
    required: [...required, 'certificate_id', 'expires_at'],
    additionalProperties: false,
    examples: [
      {
        ...to,
        subject: 'Certificate expires in 14 days',
        message: 'Renew cert-55 before 2024-02-01.',
        certificate_id: 'cert-55',
        expires_at: '2024-02-01T00:00:00Z',
        days_remaining: 14,
      },
    ],
  },
})

/** `marty.notification.certificate_expired`: a certificate is no longer valid. */
export const certificateExpired = eventSpec({
  type: 'marty.notification.certificate_expired',
  version: 1,
  topic: 'marty.{service}.notification.certificate_expired',
  summary: 'A certificate has expired.',
  key: 'certificate_id',
  schema: {
    type: 'object',
    properties: { ...certificate, expired_at: dateTime },
    required: [...required, 'certificate_id', 'expired_at'],
    additionalProperties: false,
    examples: [
      {
        ...to,
        subject: 'Certificate expired',
        message: 'cert-55 expired; services using it will fail TLS.',
        certificate_id: 'cert-55',
        expired_at: '2024-02-01T00:00:00Z',
        priority: 'urgent',
      },
    ],
  },
})

/** `marty.notification.system_maintenance`: announce a maintenance window. */
export const systemMaintenance = eventSpec({
  type: 'marty.notification.system_maintenance',
  version: 1,
  topic: 'marty.{service}.notification.system_maintenance',
  summary: 'Announce a maintenance window.',
  key: 'notification_id',
  schema: {
    type: 'object',
    properties: {
      ...base,
      window_start: dateTime,
      window_end: dateTime,
      affected_services: { type: 'array', items: label, maxItems: 100 },
    },
    required: [...required, 'window_start', 'window_end'],
    additionalProperties: false,
    examples: [
      {
        recipient_type: 'all',
        recipient_ids: ['all-users'],
        subject: 'Planned maintenance',
        message: 'The portal is read-only during the window.',
        window_start: '2024-01-20T22:00:00Z',
        window_end: '2024-01-20T23:30:00Z',
      },
    ],
  },
})

/** `marty.notification.system_alert`: tell operators something is wrong. */
export const systemAlert = eventSpec({
  type: 'marty.notification.system_alert',
  version: 1,
  topic: 'marty.{service}.notification.system_alert',
  summary: 'Alert operators about a problem.',
  key: 'notification_id',
  schema: {
    type: 'object',
    properties: {
      ...base,
      severity: { enum: ['info', 'warning', 'error', 'critical'] },
      source_service: label,
    },
    required: [...required, 'severity'],
    additionalProperties: false,
    examples: [
      {
        recipient_type: 'role',
        recipient_ids: ['oncall'],
        subject: 'PKD sync failing',
        message: 'Three consecutive sync runs failed.',
        severity: 'critical',
      },
    ],
  },
})
