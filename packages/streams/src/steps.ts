import type { EventEnvelope } from '@switchyard/core'

/** One stateless step of the DSL. */
export type Step =
  | { readonly kind: 'filter'; readonly fn: (value: unknown) => boolean }
  | { readonly kind: 'map'; readonly fn: (value: unknown) => unknown }
  | { readonly kind: 'key'; readonly fn: (value: unknown) => string }

/** Where `runSteps` writes an event's key and value (one object reused for every event). */
export interface Shaped {
  key: string
  value: unknown
}

/**
 * Runs the steps over an event and writes its key and value into `into`: true when it was kept,
 * false when a filter dropped it, or the error a step threw (or a key that is not a string), for
 * the dead-letter reason.
 */
export function runSteps(
  steps: readonly Step[],
  event: EventEnvelope,
  into: Shaped,
): boolean | Error {
  let value: unknown = event
  let key = event.partitionkey ?? ''
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i] as Step
    try {
      if (step.kind === 'filter') {
        if (!step.fn(value)) return false
      } else if (step.kind === 'map') {
        value = step.fn(value)
      } else {
        const k = step.fn(value)
        if (typeof k !== 'string') return new TypeError(`keyBy returned ${typeof k}, not a string`)
        key = k
      }
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error))
      return new Error(`${step.kind === 'key' ? 'keyBy' : step.kind} threw: ${e.message}`, {
        cause: e,
      })
    }
  }
  into.key = key
  into.value = value
  return true
}

/** Runs result steps (filter and map only) over a result value: the new value, or `undefined` to drop it. */
export function runResultSteps(
  steps: readonly Step[],
  value: unknown,
): { value: unknown } | undefined {
  let v = value
  for (const step of steps) {
    if (step.kind === 'filter') {
      if (!step.fn(v)) return undefined
    } else v = step.fn(v)
  }
  return { value: v }
}
