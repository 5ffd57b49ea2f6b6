import type { StandardSchemaV1 } from '@standard-schema/spec'
import { ConfigurationError, type ValidationIssue } from '@switchyard/core'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import type { JsonSchema } from './catalog.js'
import { ajvIssues, standardIssues } from './issues.js'

// ajv-formats is CommonJS with a default export; under NodeNext the default import is the module
// object. This picks the function in both module systems.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020

/** The result of a validation that does not throw. */
export type ValidationResult<T = unknown> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly issues: readonly ValidationIssue[] }

/** @internal One registered schema version with its (lazily) compiled validator. */
export interface Entry {
  readonly type: string
  readonly version: number
  readonly id: string | undefined
  readonly schema: JsonSchema | StandardSchemaV1
  readonly standard: boolean
  /** Compiles now; throws `ConfigurationError` for a broken schema. */
  compile(): void
  /** Validates; never throws (a validator that throws becomes an issue). */
  run(data: unknown): ValidationResult | Promise<ValidationResult>
  /**
   * The hot path: true when the data is valid and is itself the result (JSON Schemas). False
   * means "ask `run`": invalid, or a Standard Schema whose output may differ from its input.
   */
  accepts(data: unknown): boolean
}

/** An ajv instance for JSON Schema 2020-12 with every standard format checked. */
export function createAjv(): Ajv2020 {
  // allErrors: the caller wants every failing path at once, not the first. strict catches
  // misspelt keywords; `required` without a matching `properties` entry is legitimate though.
  const ajv = new Ajv2020({
    allErrors: true,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
  })
  addFormats(ajv)
  return ajv
}

/** @internal An entry validated by ajv. */
export function jsonEntry(
  ajv: Ajv2020,
  type: string,
  version: number,
  schema: JsonSchema,
  maxIssues: number,
  id: string | undefined,
): Entry {
  let fn: ValidateFunction | undefined
  const compile = (): ValidateFunction => {
    if (fn !== undefined) return fn
    try {
      fn = ajv.compile(schema)
    } catch (error) {
      throw new ConfigurationError(
        `The schema of "${type}" version ${version} is invalid: ${(error as Error).message}`,
        {
          field: 'schema',
          cause: error,
        },
      )
    }
    return fn
  }
  const ownId =
    typeof schema === 'object' && typeof schema.$id === 'string' ? schema.$id : undefined
  return {
    type,
    version,
    id: id ?? ownId,
    schema,
    standard: false,
    compile,
    run(data) {
      const validate = fn ?? compile()
      try {
        if (validate(data)) return { ok: true, value: data }
      } catch (error) {
        return unvalidatable(error)
      }
      return { ok: false, issues: ajvIssues(validate.errors ?? [], maxIssues) }
    },
    accepts(data) {
      const validate = fn ?? compile()
      try {
        return validate(data) === true
      } catch {
        return false
      }
    },
  }
}

/** @internal An entry validated by a Standard Schema library (zod, valibot, arktype, ...). */
export function standardEntry(
  type: string,
  version: number,
  schema: StandardSchemaV1,
  maxIssues: number,
): Entry {
  const toResult = (result: StandardSchemaV1.Result<unknown>): ValidationResult =>
    result.issues === undefined
      ? { ok: true, value: result.value }
      : { ok: false, issues: standardIssues(result.issues, maxIssues) }
  return {
    type,
    version,
    id: undefined,
    schema,
    standard: true,
    compile() {},
    accepts: () => false,
    run(data) {
      let result: StandardSchemaV1.Result<unknown> | Promise<StandardSchemaV1.Result<unknown>>
      try {
        result = schema['~standard'].validate(data)
      } catch (error) {
        return unvalidatable(error)
      }
      return result instanceof Promise ? result.then(toResult, unvalidatable) : toResult(result)
    },
  }
}

// Input a validator cannot even walk (a getter that throws, nesting deeper than the stack) is
// invalid input, not a crash: report it like any other issue.
function unvalidatable(error: unknown): ValidationResult {
  const reason =
    error instanceof RangeError
      ? 'is nested too deeply to validate'
      : `could not be validated: ${String(error)}`
  return { ok: false, issues: [{ path: 'data', message: reason }] }
}
