import { eventSpec } from '../catalog.js'
import { identifier, jsonObject, label, semver, text, uuid } from '../schema-parts.js'

const run = { execution_id: uuid, capsule_id: identifier } as const
const runExample = {
  execution_id: '5b8c2d1e-7f3a-4c9b-a1d2-e3f4a5b6c7d8',
  capsule_id: 'cap-789',
} as const

/** `com.anumate.execution.started`: the orchestrator began running a capsule. */
export const executionStarted = eventSpec({
  type: 'com.anumate.execution.started',
  version: 1,
  topic: 'anumate.executions',
  summary: 'The orchestrator started executing a capsule.',
  key: 'execution_id',
  schema: {
    type: 'object',
    properties: {
      ...run,
      capsule_version: semver,
      triggered_by: identifier,
      parameters: jsonObject,
    },
    required: ['execution_id', 'capsule_id'],
    additionalProperties: false,
    examples: [
      { ...runExample, capsule_version: '2.0.0', parameters: { region: 'eu-west-1', replicas: 3 } },
    ],
  },
})

/** `com.anumate.execution.completed`: a run finished successfully. */
export const executionCompleted = eventSpec({
  type: 'com.anumate.execution.completed',
  version: 1,
  topic: 'anumate.executions',
  summary: 'An execution finished successfully.',
  key: 'execution_id',
  schema: {
    type: 'object',
    properties: { ...run, duration_ms: { type: 'integer', minimum: 0 }, outputs: jsonObject },
    required: ['execution_id', 'capsule_id', 'duration_ms'],
    additionalProperties: false,
    examples: [
      { ...runExample, duration_ms: 84_210, outputs: { bucket_arn: 'arn:aws:s3:::logs' } },
    ],
  },
})

/** `com.anumate.execution.failed`: a run stopped with an error. */
export const executionFailed = eventSpec({
  type: 'com.anumate.execution.failed',
  version: 1,
  topic: 'anumate.executions',
  summary: 'An execution failed.',
  key: 'execution_id',
  schema: {
    type: 'object',
    properties: {
      ...run,
      error: text,
      error_code: { type: 'string', maxLength: 64 },
      step: label,
      retryable: { type: 'boolean' },
    },
    required: ['execution_id', 'capsule_id', 'error'],
    additionalProperties: false,
    examples: [
      { ...runExample, error: 'terraform apply exited with 1', step: 'apply', retryable: true },
    ],
  },
})

/** `com.anumate.execution.paused`: a run waits, usually for an approval. */
export const executionPaused = eventSpec({
  type: 'com.anumate.execution.paused',
  version: 1,
  topic: 'anumate.executions',
  summary: 'An execution paused (waiting for an approval, a policy hold or an operator).',
  key: 'execution_id',
  schema: {
    type: 'object',
    properties: {
      ...run,
      reason: { enum: ['approval_required', 'policy_hold', 'manual'] },
      approval_id: uuid,
      step: label,
    },
    required: ['execution_id', 'capsule_id', 'reason'],
    additionalProperties: false,
    examples: [
      {
        ...runExample,
        reason: 'approval_required',
        approval_id: '0e1d2c3b-4a59-4687-9a8b-7c6d5e4f3a2b',
      },
    ],
  },
})

/** `com.anumate.execution.resumed`: a paused run continues. Implied by `paused`; not in the seed list. */
export const executionResumed = eventSpec({
  type: 'com.anumate.execution.resumed',
  version: 1,
  topic: 'anumate.executions',
  summary: 'A paused execution resumed.',
  key: 'execution_id',
  schema: {
    type: 'object',
    properties: { ...run, resumed_by: identifier, approval_id: uuid },
    required: ['execution_id', 'capsule_id'],
    additionalProperties: false,
    examples: [{ ...runExample, resumed_by: 'approvals-service' }],
  },
})
