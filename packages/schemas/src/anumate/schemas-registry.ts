import { eventSpec } from '../catalog.js'
import { email, fieldNames, identifier, label, semver, text } from '../schema-parts.js'

// Anumate payloads are closed: the services are Anumate's own and evolve through versions. The
// tenant, correlation and trace ids travel in the envelope (`tenantid`, `correlationid`,
// `traceparent`), never in `data`.

const author = { anyOf: [email, identifier] } as const

/** `com.anumate.capsule.created`: the registry stored a new capsule. */
export const capsuleCreated = eventSpec({
  type: 'com.anumate.capsule.created',
  version: 1,
  topic: 'anumate.capsules',
  summary: 'The registry stored a new capsule.',
  key: 'capsule_id',
  schema: {
    type: 'object',
    properties: {
      capsule_id: identifier,
      name: label,
      version: semver,
      author,
      description: text,
      tags: { type: 'array', items: label, maxItems: 50, uniqueItems: true },
    },
    required: ['capsule_id', 'name', 'version'],
    additionalProperties: false,
    examples: [
      {
        capsule_id: 'cap-789',
        name: 'terraform-aws',
        version: '2.0.0',
        author: 'user@anumate.com',
      },
    ],
  },
})

/** `com.anumate.capsule.updated`: a capsule got a new version or metadata. */
export const capsuleUpdated = eventSpec({
  type: 'com.anumate.capsule.updated',
  version: 1,
  topic: 'anumate.capsules',
  summary: 'A capsule was updated.',
  key: 'capsule_id',
  schema: {
    type: 'object',
    properties: {
      capsule_id: identifier,
      version: semver,
      previous_version: semver,
      changed_fields: fieldNames,
      updated_by: author,
    },
    required: ['capsule_id', 'version'],
    additionalProperties: false,
    examples: [
      {
        capsule_id: 'cap-789',
        version: '2.1.0',
        previous_version: '2.0.0',
        changed_fields: ['steps'],
      },
    ],
  },
})

/** `com.anumate.capsule.deleted`: a capsule was removed from the registry. */
export const capsuleDeleted = eventSpec({
  type: 'com.anumate.capsule.deleted',
  version: 1,
  topic: 'anumate.capsules',
  summary: 'A capsule was deleted from the registry.',
  key: 'capsule_id',
  schema: {
    type: 'object',
    properties: { capsule_id: identifier, deleted_by: author, reason: text },
    required: ['capsule_id'],
    additionalProperties: false,
    examples: [{ capsule_id: 'cap-789', deleted_by: 'user@anumate.com' }],
  },
})

/** `com.anumate.capsule.published`: a capsule version became available for execution. */
export const capsulePublished = eventSpec({
  type: 'com.anumate.capsule.published',
  version: 1,
  topic: 'anumate.capsules',
  summary: 'A capsule version was published and may now be executed.',
  key: 'capsule_id',
  schema: {
    type: 'object',
    properties: {
      capsule_id: identifier,
      version: semver,
      published_by: author,
      channel: { enum: ['stable', 'beta', 'internal'] },
      checksum: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
    },
    required: ['capsule_id', 'version'],
    additionalProperties: false,
    examples: [
      {
        capsule_id: 'cap-789',
        version: '2.0.0',
        channel: 'stable',
        checksum: 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      },
    ],
  },
})
