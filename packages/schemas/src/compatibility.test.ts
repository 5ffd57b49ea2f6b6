import { describe, expect, it } from 'vitest'
import type { JsonSchemaObject } from './catalog.js'
import { compatibilityProblems, isBackwardCompatible } from './compatibility.js'
import { employeeCreated } from './olive/schemas-people.js'

const v1 = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    age: { type: 'integer', minimum: 0, maximum: 150 },
    role: { enum: ['admin', 'user'] },
    tags: { type: 'array', items: { type: 'string' } },
  },
  required: ['id'],
  additionalProperties: false,
} as const satisfies JsonSchemaObject

function change(patch: (s: typeof v1) => JsonSchemaObject): string[] {
  return compatibilityProblems(v1, patch(structuredClone(v1)))
}

describe('compatibility - breaking changes', () => {
  it('compatibility - rejects a new required field', () => {
    expect(change((s) => ({ ...s, required: ['id', 'email'] }))).toEqual([
      'data.email: is now required',
    ])
  })

  it('compatibility - rejects a narrowed type', () => {
    expect(
      change((s) => ({ ...s, properties: { ...s.properties, id: { type: 'integer' } } })),
    ).toEqual(['data.id: type narrowed from string to integer'])
    expect(
      change((s) => ({
        ...s,
        properties: { ...s.properties, age: { type: 'integer', minimum: 18 } },
      })),
    ).toEqual(['data.age: minimum raised to 18'])
  })

  it('compatibility - rejects a narrowed enum, a new format, pattern or bound', () => {
    expect(
      change((s) => ({ ...s, properties: { ...s.properties, role: { enum: ['admin'] } } })),
    ).toEqual(['data.role: no longer accepts "user"'])
    expect(
      change((s) => ({
        ...s,
        properties: { ...s.properties, email: { type: 'string', format: 'email' } },
      })),
    ).toEqual(['data.email: now requires format "email"'])
    expect(
      change((s) => ({
        ...s,
        properties: { ...s.properties, id: { type: 'string', pattern: '^u_', maxLength: 9 } },
      })),
    ).toEqual(['data.id: now requires pattern ^u_', 'data.id: maxLength lowered to 9'])
    expect(
      change((s) => ({
        ...s,
        properties: { ...s.properties, tags: { ...s.properties.tags, maxItems: 3 } },
      })),
    ).toEqual(['data.tags: maxItems lowered to 3'])
  })

  it('compatibility - rejects removing a property from a closed object', () => {
    const { email: _gone, ...rest } = v1.properties
    expect(change((s) => ({ ...s, properties: rest }))).toEqual([
      'data.email: is no longer allowed',
    ])
  })

  it('compatibility - rejects closing an open object and typing a property an open object allowed', () => {
    const open = { type: 'object', properties: { id: { type: 'string' } } }
    expect(compatibilityProblems(open, { ...open, additionalProperties: false })).toEqual([
      'data: no longer allows other properties',
    ])
    expect(
      compatibilityProblems(open, {
        ...open,
        properties: { ...open.properties, nick: { type: 'string' } },
      }),
    ).toEqual(['data.nick: added to an open object, where old data may hold any value'])
  })

  it('compatibility - looks inside arrays and nested objects', () => {
    expect(
      change((s) => ({
        ...s,
        properties: {
          ...s.properties,
          tags: { type: 'array', items: { type: 'string', minLength: 2 } },
        },
      })),
    ).toEqual(['data.tags[0]: minLength raised to 2'])
  })

  it('compatibility - counts what it cannot prove as a problem', () => {
    expect(
      change((s) => ({ ...s, properties: { ...s.properties, id: { $ref: '#/$defs/id' } } })),
    ).toEqual(['data.id: cannot prove that the new "$ref" accepts old data'])
  })
})

describe('compatibility - safe changes', () => {
  it('compatibility - accepts the same schema and documentation changes', () => {
    expect(isBackwardCompatible(v1, v1)).toBe(true)
    expect(isBackwardCompatible(v1, { ...v1, description: 'users', examples: [{ id: 'x' }] })).toBe(
      true,
    )
  })

  it('compatibility - accepts a new optional field on a closed object', () => {
    expect(
      change((s) => ({ ...s, properties: { ...s.properties, nick: { type: 'string' } } })),
    ).toEqual([])
  })

  it('compatibility - accepts widening: fewer required, wider type, larger enum and bounds', () => {
    expect(change((s) => ({ ...s, required: [] }))).toEqual([])
    expect(
      change((s) => ({ ...s, properties: { ...s.properties, age: { type: 'number' } } })),
    ).toEqual([])
    expect(
      change((s) => ({
        ...s,
        properties: { ...s.properties, role: { enum: ['admin', 'user', 'guest'] } },
      })),
    ).toEqual([])
    expect(change((s) => ({ ...s, additionalProperties: true }))).toEqual([])
    expect(
      change((s) => ({
        ...s,
        properties: { ...s.properties, id: { anyOf: [{ type: 'string' }, { type: 'integer' }] } },
      })),
    ).toEqual([])
  })

  it('compatibility - a catalog schema gaining an optional field stays compatible', () => {
    const { schema } = employeeCreated
    const next = {
      ...schema,
      properties: { ...schema.properties, nickname: { type: 'string', maxLength: 50 } },
    }
    expect(isBackwardCompatible(schema, next)).toBe(true)
    expect(
      isBackwardCompatible(schema, { ...next, required: [...schema.required, 'nickname'] }),
    ).toBe(false)
  })
})
