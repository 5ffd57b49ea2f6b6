import { expect } from 'vitest'
import type { runDemo } from '../src/demo.js'

/** What every demo run must show, whatever the transport: all events accounted for. */
export function expectDemoTally(
  result: Awaited<ReturnType<typeof runDemo>>,
  lines: string[],
): void {
  expect(result.ok).toBe(true)
  expect(result.tally.published).toBe(13)
  expect(result.tally.handled).toEqual({ notifications: 12, audit: 13 })
  expect(result.tally.retried).toBe(2)
  expect(result.tally.deadLetters).toEqual(['emp_6'])
  expect(lines).toContain('Summary')
}
