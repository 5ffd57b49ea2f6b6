import type { StandardSchemaV1 } from '@standard-schema/spec'
import type { ValidationIssue } from '@switchyard/core'
import type { ErrorObject } from 'ajv'

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** Turns path segments into `data.items[0].email`; odd keys are quoted: `data["first name"]`. */
export function formatPath(segments: readonly PropertyKey[], root = 'data'): string {
  let path = root
  for (const segment of segments) {
    if (typeof segment === 'number') path += `[${segment}]`
    else if (typeof segment === 'string' && IDENTIFIER.test(segment)) path += `.${segment}`
    else path += `[${JSON.stringify(String(segment))}]`
  }
  return path
}

/** Splits a JSON Pointer (`/items/0/email`) into segments; array indexes become numbers. */
export function pointerSegments(pointer: string): PropertyKey[] {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map((raw) => {
      const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~')
      return /^(0|[1-9]\d*)$/.test(segment) ? Number(segment) : segment
    })
}

/** Words for each failed ajv keyword, naming the offending path rather than its parent. */
export function ajvIssues(errors: readonly ErrorObject[], maxIssues: number): ValidationIssue[] {
  const issues: ValidationIssue[] = []
  const seen = new Set<string>()
  for (const error of errors) {
    const segments = pointerSegments(error.instancePath)
    let message = error.message ?? `failed "${error.keyword}"`
    const params = error.params as Record<string, unknown>
    switch (error.keyword) {
      case 'required':
        segments.push(String(params.missingProperty))
        message = 'is required'
        break
      case 'additionalProperties':
        segments.push(String(params.additionalProperty))
        message = 'is not an allowed property'
        break
      case 'enum':
        message = `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
        break
      case 'const':
        message = `must be ${JSON.stringify(params.allowedValue)}`
        break
      case 'dependentRequired':
        segments.push(String(params.missingProperty))
        message = `is required when "${String(params.property)}" is present`
        break
      case 'propertyNames':
        segments.push(String(params.propertyName))
        message = 'is not an allowed property name'
        break
      case 'anyOf':
      case 'oneOf':
        message = 'must match one of the allowed shapes'
        break
    }
    if (add(issues, seen, { path: formatPath(segments), message }, maxIssues)) break
  }
  return issues
}

/** Issues of a Standard Schema result (zod, valibot, arktype), in the same words as ajv's. */
export function standardIssues(
  list: readonly StandardSchemaV1.Issue[],
  maxIssues: number,
): ValidationIssue[] {
  const issues: ValidationIssue[] = []
  const seen = new Set<string>()
  for (const issue of list) {
    const segments = (issue.path ?? []).map((s) => (typeof s === 'object' ? s.key : s))
    if (add(issues, seen, { path: formatPath(segments), message: issue.message }, maxIssues)) break
  }
  return issues
}

// Appends unless a duplicate; returns true once the list is full (a summary issue is added).
function add(
  issues: ValidationIssue[],
  seen: Set<string>,
  issue: ValidationIssue,
  max: number,
): boolean {
  const key = `${issue.path}\u0000${issue.message}`
  if (seen.has(key)) return false
  seen.add(key)
  if (issues.length === max) {
    issues.push({ path: 'data', message: `more problems not listed (limit ${max})` })
    return true
  }
  issues.push(issue)
  return false
}
