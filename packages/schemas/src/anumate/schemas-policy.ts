import { eventSpec } from '../catalog.js'
import { attributes, fieldNames, identifier, label, semver, text, uuid } from '../schema-parts.js'

const resource = { resource_type: label, resource_id: identifier } as const

/** `com.anumate.policy.created`: a policy was defined. */
export const policyCreated = eventSpec({
  type: 'com.anumate.policy.created',
  version: 1,
  topic: 'anumate.policies',
  summary: 'A policy was created.',
  key: 'policy_id',
  schema: {
    type: 'object',
    properties: {
      policy_id: identifier,
      name: label,
      version: semver,
      enforcement_mode: { enum: ['enforce', 'audit', 'disabled'] },
      rules_count: { type: 'integer', minimum: 0, maximum: 10_000 },
      created_by: identifier,
    },
    required: ['policy_id', 'name', 'enforcement_mode'],
    additionalProperties: false,
    examples: [
      {
        policy_id: 'pol-1',
        name: 'no-public-buckets',
        enforcement_mode: 'enforce',
        rules_count: 3,
      },
    ],
  },
})

/** `com.anumate.policy.updated`: a policy's rules or mode changed. */
export const policyUpdated = eventSpec({
  type: 'com.anumate.policy.updated',
  version: 1,
  topic: 'anumate.policies',
  summary: 'A policy was updated.',
  key: 'policy_id',
  schema: {
    type: 'object',
    properties: {
      policy_id: identifier,
      version: semver,
      enforcement_mode: { enum: ['enforce', 'audit', 'disabled'] },
      changed_fields: fieldNames,
      updated_by: identifier,
    },
    required: ['policy_id', 'changed_fields'],
    additionalProperties: false,
    examples: [{ policy_id: 'pol-1', version: '1.1.0', changed_fields: ['rules'] }],
  },
})

/** `com.anumate.policy.violated`: a resource broke a policy. */
export const policyViolated = eventSpec({
  type: 'com.anumate.policy.violated',
  version: 1,
  topic: 'anumate.policies',
  summary: 'A resource or execution violated a policy.',
  key: 'policy_id',
  schema: {
    type: 'object',
    properties: {
      policy_id: identifier,
      ...resource,
      severity: { enum: ['low', 'medium', 'high', 'critical'] },
      violation: text,
      execution_id: uuid,
      details: attributes,
    },
    required: ['policy_id', 'resource_type', 'resource_id', 'severity', 'violation'],
    additionalProperties: false,
    examples: [
      {
        policy_id: 'pol-1',
        resource_type: 's3_bucket',
        resource_id: 'logs-bucket',
        severity: 'high',
        violation: 'Bucket allows public read',
      },
    ],
  },
})

/** `com.anumate.policy.enforced`: a policy decision was applied. */
export const policyEnforced = eventSpec({
  type: 'com.anumate.policy.enforced',
  version: 1,
  topic: 'anumate.policies',
  summary: 'A policy decision was applied to a resource or execution.',
  key: 'policy_id',
  schema: {
    type: 'object',
    properties: {
      policy_id: identifier,
      ...resource,
      decision: { enum: ['allowed', 'denied', 'modified', 'flagged'] },
      execution_id: uuid,
    },
    required: ['policy_id', 'resource_type', 'resource_id', 'decision'],
    additionalProperties: false,
    examples: [
      { policy_id: 'pol-1', resource_type: 'execution', resource_id: 'run-5', decision: 'denied' },
    ],
  },
})
