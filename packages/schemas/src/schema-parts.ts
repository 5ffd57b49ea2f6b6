// Building blocks shared by the catalogs. Every string has a maximum length and every map and
// list a maximum size, and nesting has a fixed depth: a catalog schema by itself rejects a
// 10 MB payload or a deeply nested object with a message naming the path, with no size check
// of its own in the hot path.

/** An identifier such as `emp_123`, `cap-123` or `user:42`. */
export const identifier = {
  type: 'string',
  minLength: 1,
  maxLength: 128,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._:@/-]*$',
} as const

/** A UUID (any version). */
export const uuid = { type: 'string', format: 'uuid' } as const

/** An e-mail address. */
export const email = { type: 'string', format: 'email', maxLength: 254 } as const

/** An RFC 3339 timestamp. */
export const dateTime = { type: 'string', format: 'date-time' } as const

/** A calendar date, `YYYY-MM-DD`. */
export const date = { type: 'string', format: 'date' } as const

/** A short label: a name, a title, a department. */
export const label = { type: 'string', minLength: 1, maxLength: 200 } as const

/** Free text: a reason, a comment, a message. */
export const text = { type: 'string', minLength: 1, maxLength: 10_000 } as const

/** A semantic version such as `1.0.0` or `2.1.0-rc.1`. */
export const semver = {
  type: 'string',
  maxLength: 64,
  pattern: '^\\d+\\.\\d+\\.\\d+(?:-[0-9A-Za-z.-]+)?(?:\\+[0-9A-Za-z.-]+)?$',
} as const

/** A list of identifiers, each at most once. */
export const identifiers = {
  type: 'array',
  items: identifier,
  maxItems: 1_000,
  uniqueItems: true,
} as const

/** A list of property names that changed. */
export const fieldNames = {
  type: 'array',
  items: { type: 'string', minLength: 1, maxLength: 64 },
  maxItems: 100,
  uniqueItems: true,
} as const

const scalarTypes = ['string', 'number', 'boolean', 'null'] as const

/** A flat map of short scalar values: tags, labels, metadata. */
export const attributes = {
  type: 'object',
  maxProperties: 64,
  propertyNames: { maxLength: 64 },
  additionalProperties: { type: scalarTypes, maxLength: 1_000 },
} as const

// JSON of bounded size and depth, for payloads a catalog cannot know (domain event data,
// execution outputs). Three levels below the top object is enough for records of records.
const json0 = { type: scalarTypes, maxLength: 10_000 } as const
const json1 = {
  type: [...scalarTypes, 'array', 'object'],
  maxLength: 10_000,
  maxItems: 100,
  maxProperties: 100,
  items: json0,
  additionalProperties: json0,
} as const
const json2 = { ...json1, items: json1, additionalProperties: json1 } as const
const json3 = { ...json1, items: json2, additionalProperties: json2 } as const

/** An object of bounded JSON: at most 100 keys per level and four levels deep. */
export const jsonObject = {
  type: 'object',
  maxProperties: 100,
  propertyNames: { maxLength: 128 },
  additionalProperties: json3,
} as const
