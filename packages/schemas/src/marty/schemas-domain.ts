import { eventSpec } from '../catalog.js'
import { identifier, jsonObject } from '../schema-parts.js'

const segment = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[a-z0-9_-]+$' } as const

/**
 * `marty.domain.<aggregate>.<event>`: the shape every domain event shares. One schema covers the
 * whole family (the type is a pattern); register a schema for an exact type, e.g.
 * `marty.domain.user.user_created`, to check its `event_data` too.
 */
export const domainEvent = eventSpec({
  type: 'marty.domain.*.*',
  version: 1,
  topic: 'marty.{service}.{aggregate}.{eventType}',
  summary: 'A change to an aggregate, in the aggregate’s own words.',
  key: 'aggregate_id',
  schema: {
    type: 'object',
    properties: {
      aggregate_type: segment,
      aggregate_id: identifier,
      event_type: segment,
      aggregate_version: { type: 'integer', minimum: 0 },
      event_data: jsonObject,
    },
    required: ['aggregate_type', 'aggregate_id', 'event_type', 'event_data'],
    additionalProperties: false,
    examples: [
      {
        aggregate_type: 'user',
        aggregate_id: 'user-123',
        event_type: 'user_created',
        aggregate_version: 1,
        event_data: { email: 'user@example.com' },
      },
    ],
  },
})
