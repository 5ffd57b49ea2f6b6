import type { JsonSchema, JsonSchemaObject } from './catalog.js'
import { formatPath } from './issues.js'

// Backward compatible means: consumers using the new schema still accept every event produced
// under the old one. So the new schema may only widen. The check is structural and conservative:
// what it cannot prove (a changed `$ref`, `oneOf`, `not`, ...) counts as a problem.

const ALL_TYPES = ['null', 'boolean', 'object', 'array', 'number', 'integer', 'string']
const LOWER_BOUNDS = [
  'minimum',
  'exclusiveMinimum',
  'minLength',
  'minItems',
  'minProperties',
  'minContains',
]
const UPPER_BOUNDS = [
  'maximum',
  'exclusiveMaximum',
  'maxLength',
  'maxItems',
  'maxProperties',
  'maxContains',
]
const OPAQUE = [
  '$ref',
  '$dynamicRef',
  'allOf',
  'oneOf',
  'not',
  'if',
  'then',
  'else',
  'patternProperties',
  'unevaluatedProperties',
  'unevaluatedItems',
  'prefixItems',
  'contains',
  'dependentSchemas',
]

/**
 * Lists why data valid under `oldSchema` could be rejected by `newSchema`, one problem per path
 * (`data.email: is now required`). Empty when the new schema is backward compatible.
 */
export function compatibilityProblems(oldSchema: JsonSchema, newSchema: JsonSchema): string[] {
  const problems: string[] = []
  compare(oldSchema, newSchema, [], problems)
  return problems
}

/**
 * True when every event valid under `oldSchema` is also valid under `newSchema`: no new required
 * field, no narrowed type, enum, format or bound, no property closed that was open.
 * @example isBackwardCompatible(v1, { ...v1, required: [...v1.required, 'phone'] }) // false
 */
export function isBackwardCompatible(oldSchema: JsonSchema, newSchema: JsonSchema): boolean {
  return compatibilityProblems(oldSchema, newSchema).length === 0
}

function compare(
  before: JsonSchema | undefined,
  after: JsonSchema | undefined,
  at: PropertyKey[],
  out: string[],
): void {
  const b = after === undefined || after === true ? {} : after
  if (before === false) return
  const a: JsonSchemaObject = before === undefined || before === true ? {} : before
  const path = formatPath(at)
  if (b === false) {
    out.push(`${path}: no longer accepts any value`)
    return
  }
  for (const keyword of OPAQUE) {
    if (keyword in b && !equal(a[keyword], b[keyword]))
      out.push(`${path}: cannot prove that the new "${keyword}" accepts old data`)
  }
  if (Array.isArray(b.anyOf) && !equal(a.anyOf, b.anyOf)) {
    const branches = Array.isArray(a.anyOf) ? (a.anyOf as JsonSchema[]) : [withoutKey(a, 'anyOf')]
    const fits = branches.every((branch) =>
      (b.anyOf as JsonSchema[]).some(
        (candidate) => compatibilityProblems(branch, candidate).length === 0,
      ),
    )
    if (!fits) out.push(`${path}: some old values match none of the new "anyOf" shapes`)
  }
  compareTypes(a, b, path, out)
  compareValues(a, b, path, out)
  compareObjects(a, b, at, out)
  if ('items' in b)
    compare(a.items as JsonSchema | undefined, b.items as JsonSchema, [...at, 0], out)
  if ('propertyNames' in b && !equal(a.propertyNames, b.propertyNames)) {
    compare(
      a.propertyNames as JsonSchema | undefined,
      b.propertyNames as JsonSchema,
      [...at, '(property names)'],
      out,
    )
  }
}

function compareTypes(a: JsonSchemaObject, b: JsonSchemaObject, path: string, out: string[]): void {
  const after = typesOf(b)
  if (after === undefined) return
  const before = typesOf(a) ?? ALL_TYPES
  const lost = before.filter(
    (t) => !after.includes(t) && !(t === 'integer' && after.includes('number')),
  )
  if (lost.length > 0)
    out.push(`${path}: type narrowed from ${describe(typesOf(a))} to ${describe(after)}`)
}

function compareValues(
  a: JsonSchemaObject,
  b: JsonSchemaObject,
  path: string,
  out: string[],
): void {
  const allowedAfter = allowed(b)
  if (allowedAfter !== undefined) {
    const allowedBefore = allowed(a)
    if (allowedBefore === undefined)
      out.push(`${path}: now limited to ${allowedAfter.map((v) => JSON.stringify(v)).join(', ')}`)
    else {
      const dropped = allowedBefore.filter((v) => !allowedAfter.some((w) => equal(v, w)))
      if (dropped.length > 0)
        out.push(`${path}: no longer accepts ${dropped.map((v) => JSON.stringify(v)).join(', ')}`)
    }
  }
  if (b.format !== undefined && b.format !== a.format)
    out.push(`${path}: now requires format "${String(b.format)}"`)
  if (b.pattern !== undefined && b.pattern !== a.pattern)
    out.push(`${path}: now requires pattern ${String(b.pattern)}`)
  for (const key of LOWER_BOUNDS) {
    const [x, y] = [a[key] as number | undefined, b[key] as number | undefined]
    if (y !== undefined && (x === undefined || y > x)) out.push(`${path}: ${key} raised to ${y}`)
  }
  for (const key of UPPER_BOUNDS) {
    const [x, y] = [a[key] as number | undefined, b[key] as number | undefined]
    if (y !== undefined && (x === undefined || y < x)) out.push(`${path}: ${key} lowered to ${y}`)
  }
  const [m, n] = [a.multipleOf as number | undefined, b.multipleOf as number | undefined]
  if (n !== undefined && (m === undefined || m % n !== 0))
    out.push(`${path}: now requires multiples of ${n}`)
  if (b.uniqueItems === true && a.uniqueItems !== true)
    out.push(`${path}: items must now be unique`)
}

function compareObjects(
  a: JsonSchemaObject,
  b: JsonSchemaObject,
  at: PropertyKey[],
  out: string[],
): void {
  const requiredBefore = new Set((a.required as string[] | undefined) ?? [])
  for (const key of (b.required as string[] | undefined) ?? []) {
    if (!requiredBefore.has(key)) out.push(`${formatPath([...at, key])}: is now required`)
  }
  const depsAfter = (b.dependentRequired ?? {}) as Record<string, string[]>
  const depsBefore = (a.dependentRequired ?? {}) as Record<string, string[]>
  for (const [key, deps] of Object.entries(depsAfter)) {
    for (const dep of deps) {
      if (!requiredBefore.has(dep) && !depsBefore[key]?.includes(dep)) {
        out.push(`${formatPath([...at, dep])}: is now required when "${key}" is present`)
      }
    }
  }
  if (!('properties' in b) && !('additionalProperties' in b)) return
  const propsBefore = (a.properties ?? {}) as Record<string, JsonSchema>
  const propsAfter = (b.properties ?? {}) as Record<string, JsonSchema>
  const extraBefore = (a.additionalProperties ?? true) as JsonSchema
  const extraAfter = (b.additionalProperties ?? true) as JsonSchema
  for (const key of new Set([...Object.keys(propsBefore), ...Object.keys(propsAfter)])) {
    const old = key in propsBefore ? propsBefore[key] : extraBefore
    const next = key in propsAfter ? propsAfter[key] : extraAfter
    if (old === false) continue
    const found: string[] = []
    compare(old, next, [...at, key], found)
    if (found.length > 0 && !(key in propsBefore)) {
      out.push(
        `${formatPath([...at, key])}: added to an open object, where old data may hold any value`,
      )
    } else if (found.length > 0 && !(key in propsAfter) && extraAfter === false) {
      out.push(`${formatPath([...at, key])}: is no longer allowed`)
    } else {
      out.push(...found)
    }
  }
  const found: string[] = []
  compare(extraBefore, extraAfter, [...at, '(other properties)'], found)
  if (found.length > 0 && extraAfter === false)
    out.push(`${formatPath(at)}: no longer allows other properties`)
  else out.push(...found)
}

function typesOf(schema: JsonSchemaObject): string[] | undefined {
  if (typeof schema.type === 'string') return [schema.type]
  if (Array.isArray(schema.type)) return schema.type as string[]
  return undefined
}

function allowed(schema: JsonSchemaObject): unknown[] | undefined {
  if (Array.isArray(schema.enum)) return schema.enum
  if ('const' in schema) return [schema.const]
  return undefined
}

function describe(types: string[] | undefined): string {
  return types === undefined ? 'any' : types.join(' | ')
}

function withoutKey(schema: JsonSchemaObject, key: string): JsonSchemaObject {
  const { [key]: _omit, ...rest } = schema
  return rest
}

function equal(x: unknown, y: unknown): boolean {
  if (x === y) return true
  if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false
  if (Array.isArray(x) !== Array.isArray(y)) return false
  const kx = Object.keys(x)
  const ky = Object.keys(y)
  if (kx.length !== ky.length) return false
  return kx.every((k) =>
    equal((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k]),
  )
}
