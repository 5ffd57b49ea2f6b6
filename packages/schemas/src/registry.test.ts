import { ConfigurationError, SchemaValidationError } from '@switchyard/core'
import { type } from 'arktype'
import * as v from 'valibot'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { createSchemaRegistry } from './registry.js'

const custom = {
  type: 'object',
  properties: {
    custom_field: { type: 'string' },
    custom_number: { type: 'number', minimum: 0 },
    email: { type: 'string', format: 'email' },
  },
  required: ['custom_field'],
} as const

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(SchemaValidationError)
    return [...(error as SchemaValidationError).issues]
  }
  throw new Error('expected a SchemaValidationError')
}

describe('registry - JSON Schema', () => {
  it('registry - validates registered data and returns it', () => {
    const registry = createSchemaRegistry().register('custom.event', custom)
    const data = { custom_field: 'x', custom_number: 3 }
    expect(registry.validate('custom.event', data)).toBe(data)
    expect(registry.check('custom.event', data)).toEqual({ ok: true, value: data })
  })

  it('registry - lists every failing path in words', () => {
    const registry = createSchemaRegistry().register('custom.event', custom)
    const issues = issuesOf(() =>
      registry.validate('custom.event', { custom_number: -1, email: 'nope' }),
    )
    expect(issues).toEqual([
      { path: 'data.custom_field', message: 'is required' },
      { path: 'data.custom_number', message: 'must be >= 0' },
      { path: 'data.email', message: 'must match format "email"' },
    ])
  })

  it('registry - error message names the type and every path', () => {
    const registry = createSchemaRegistry().register('custom.event', custom)
    expect(() => registry.validate('custom.event', { email: 'nope' })).toThrow(
      'Event "custom.event" failed validation: data.custom_field: is required; data.email: must match format "email"',
    )
  })

  it('registry - an unknown type is a validation error naming the type', () => {
    const registry = createSchemaRegistry()
    expect(issuesOf(() => registry.validate('nobody.knows', {}))).toEqual([
      { path: 'type', message: '"nobody.knows" has no registered schema' },
    ])
    expect(registry.has('nobody.knows')).toBe(false)
  })

  it('registry - caps the number of issues', () => {
    const registry = createSchemaRegistry({ maxIssues: 3 }).register('closed', {
      type: 'object',
      additionalProperties: false,
    })
    const data = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]))
    const issues = issuesOf(() => registry.validate('closed', data))
    expect(issues).toHaveLength(4)
    expect(issues[3]).toEqual({ path: 'data', message: 'more problems not listed (limit 3)' })
  })

  it('registry - a broken schema fails at registration with a ConfigurationError', () => {
    const registry = createSchemaRegistry()
    expect(() => registry.register('bad', { type: 'objekt' })).toThrow(ConfigurationError)
    expect(() => registry.register('bad', { type: 'string', format: 'not-a-format' })).toThrow(
      /invalid/,
    )
    expect(registry.has('bad')).toBe(false)
  })

  it('registry - rejects a version registered twice or out of order', () => {
    const registry = createSchemaRegistry().register('a', custom, 2)
    expect(() => registry.register('a', { ...custom }, 2)).toThrow(/already registered/)
    expect(() => registry.register('a', custom, 1)).toThrow(/in order/)
    expect(() => registry.register('a', custom, 0)).toThrow(ConfigurationError)
    registry.register('a', custom, 2) // the same schema again is a no-op
    expect(registry.versions('a')).toEqual([2])
  })

  it('registry - picks a version by number, by dataschema, or the latest', () => {
    const v1 = {
      $id: 'https://example.com/a/v1',
      type: 'object',
      properties: { n: { type: 'number' } },
    }
    const v2 = {
      $id: 'https://example.com/a/v2',
      type: 'object',
      properties: { n: { type: ['number', 'string'] } },
    }
    const registry = createSchemaRegistry().register('a', v1, 1).register('a', v2, 2)
    expect(registry.check('a', { n: 'x' }).ok).toBe(true)
    expect(registry.check('a', { n: 'x' }, { version: 1 }).ok).toBe(false)
    expect(registry.check('a', { n: 'x' }, { dataschema: 'https://example.com/a/v1' }).ok).toBe(
      false,
    )
    expect(registry.check('a', { n: 'x' }, { dataschema: 'https://example.com/unknown' }).ok).toBe(
      true,
    )
    expect(registry.check('a', {}, { version: 7 })).toEqual({
      ok: false,
      issues: [{ path: 'type', message: '"a" has no schema version 7' }],
    })
    expect(registry.schemaOf('a', 1)).toBe(v1)
  })

  it('registry - refuses an incompatible new version unless compatibility is off', () => {
    const v2 = { ...custom, required: ['custom_field', 'custom_number'] }
    expect(() => createSchemaRegistry().register('a', custom, 1).register('a', v2, 2)).toThrow(
      /not backward compatible with version 1: data.custom_number: is now required/,
    )
    const lax = createSchemaRegistry({ compatibility: 'none' })
      .register('a', custom, 1)
      .register('a', v2, 2)
    expect(lax.versions('a')).toEqual([1, 2])
  })

  it('registry - a type pattern covers a family, exact types win', () => {
    const registry = createSchemaRegistry()
      .register('shop.*.created', { type: 'object', required: ['id'] })
      .register('shop.order.created', { type: 'object', required: ['order_id'] })
    expect(registry.check('shop.cart.created', { id: 1 }).ok).toBe(true)
    expect(registry.check('shop.cart.created', {}).ok).toBe(false)
    expect(registry.check('shop.order.created', { order_id: 1 }).ok).toBe(true)
    expect(registry.has('shop.cart.item.created')).toBe(false)
  })

  it('registry - rejects unknown options', () => {
    expect(() => createSchemaRegistry({ strict: true } as never)).toThrow(ConfigurationError)
    expect(() => createSchemaRegistry({ compatibility: 'full' } as never)).toThrow(
      ConfigurationError,
    )
  })
})

describe('registry - Standard Schema', () => {
  const zodSchema = z.object({ email: z.email(), age: z.number().int().min(18) })

  it('registry - accepts a zod schema and infers its type', () => {
    const registry = createSchemaRegistry().register('user.signed_up', zodSchema)
    const data = registry.validate('user.signed_up', { email: 'a@b.co', age: 30 })
    expectTypeOf(data).toEqualTypeOf<{ email: string; age: number }>()
    expect(data).toEqual({ email: 'a@b.co', age: 30 })
  })

  it('registry - reports zod issues with paths in the same words', () => {
    const registry = createSchemaRegistry().register('user.signed_up', zodSchema)
    const issues = issuesOf(() =>
      registry.validate('user.signed_up', { email: 'nope', age: 12, extra: { a: 1 } }),
    )
    expect(issues.map((i) => i.path)).toEqual(['data.email', 'data.age'])
  })

  it('registry - accepts valibot and arktype schemas, with the same paths in the issues', () => {
    const vSchema = v.object({ email: v.pipe(v.string(), v.email()), age: v.number() })
    const aSchema = type({ email: 'string.email', age: 'number' })
    const registry = createSchemaRegistry()
      .register('user.valibot', vSchema)
      .register('user.arktype', aSchema)
    for (const name of ['user.valibot', 'user.arktype'] as const) {
      expect(registry.validate(name, { email: 'a@b.co', age: 30 })).toEqual({
        email: 'a@b.co',
        age: 30,
      })
      const issues = issuesOf(() => registry.validate(name, { email: 'nope', age: 'old' }))
      expect(issues.map((i) => i.path).sort()).toEqual(['data.age', 'data.email'])
    }
    const data = registry.validate('user.valibot', { email: 'a@b.co', age: 1 })
    expectTypeOf(data).toEqualTypeOf<{ email: string; age: number }>()
  })

  it('registry - an asynchronous schema needs validateAsync', async () => {
    const slow = z.object({ id: z.string() }).refine(async (v) => v.id !== 'taken', 'id is taken')
    const registry = createSchemaRegistry().register('async.event', slow)
    expect(() => registry.validate('async.event', { id: 'x' })).toThrow(/asynchronous/)
    await expect(registry.validateAsync('async.event', { id: 'free' })).resolves.toEqual({
      id: 'free',
    })
    await expect(registry.validateAsync('async.event', { id: 'taken' })).rejects.toThrow(
      SchemaValidationError,
    )
  })

  it('registry - a validator that throws becomes an issue, not a crash', () => {
    const explosive = {
      '~standard': {
        version: 1 as const,
        vendor: 'test',
        validate: () => {
          throw new TypeError('boom')
        },
      },
    }
    const registry = createSchemaRegistry().register('x', explosive)
    expect(issuesOf(() => registry.validate('x', {}))).toEqual([
      { path: 'data', message: 'could not be validated: TypeError: boom' },
    ])
  })
})
