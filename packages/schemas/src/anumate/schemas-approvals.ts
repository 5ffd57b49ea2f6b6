import { eventSpec } from '../catalog.js'
import { dateTime, identifier, text, uuid } from '../schema-parts.js'

const approvalId = '0e1d2c3b-4a59-4687-9a8b-7c6d5e4f3a2b'

/** `com.anumate.approval.requested`: a human decision is needed. */
export const approvalRequested = eventSpec({
  type: 'com.anumate.approval.requested',
  version: 1,
  topic: 'anumate.approvals',
  summary: 'An approval was requested from one or more approvers.',
  key: 'approval_id',
  schema: {
    type: 'object',
    properties: {
      approval_id: uuid,
      execution_id: uuid,
      requested_by: identifier,
      approvers: {
        type: 'array',
        items: identifier,
        minItems: 1,
        maxItems: 100,
        uniqueItems: true,
      },
      reason: text,
      expires_at: dateTime,
    },
    required: ['approval_id', 'requested_by', 'approvers'],
    additionalProperties: false,
    examples: [
      {
        approval_id: approvalId,
        execution_id: '5b8c2d1e-7f3a-4c9b-a1d2-e3f4a5b6c7d8',
        requested_by: 'orchestrator',
        approvers: ['usr_1', 'usr_2'],
        expires_at: '2024-01-21T10:30:00Z',
      },
    ],
  },
})

/** `com.anumate.approval.granted`: an approver said yes. */
export const approvalGranted = eventSpec({
  type: 'com.anumate.approval.granted',
  version: 1,
  topic: 'anumate.approvals',
  summary: 'An approval was granted.',
  key: 'approval_id',
  schema: {
    type: 'object',
    properties: { approval_id: uuid, approved_by: identifier, comment: text },
    required: ['approval_id', 'approved_by'],
    additionalProperties: false,
    examples: [
      { approval_id: approvalId, approved_by: 'usr_1', comment: 'Change window confirmed' },
    ],
  },
})

/** `com.anumate.approval.rejected`: an approver said no, with a reason. */
export const approvalRejected = eventSpec({
  type: 'com.anumate.approval.rejected',
  version: 1,
  topic: 'anumate.approvals',
  summary: 'An approval was rejected.',
  key: 'approval_id',
  schema: {
    type: 'object',
    properties: { approval_id: uuid, rejected_by: identifier, reason: text },
    required: ['approval_id', 'rejected_by', 'reason'],
    additionalProperties: false,
    examples: [
      { approval_id: approvalId, rejected_by: 'usr_2', reason: 'Outside the change window' },
    ],
  },
})
