import { describe, expect, it } from 'vitest'
import { runDemo } from '../src/demo.js'

describe('demo', () => {
  it('demo - on the memory transport every event is handled and the malformed hire is dead-lettered', async () => {
    const lines: string[] = []
    const { ok, tally, outbox } = await runDemo({
      transport: 'memory',
      timeoutMs: 10_000,
      log: (l) => void lines.push(l),
    })
    expect(ok).toBe(true)
    expect(tally.published).toBe(13)
    expect(tally.handled).toEqual({ notifications: 12, audit: 13 })
    expect(tally.retried).toBe(2)
    expect(tally.deadLetters).toEqual(['emp_6'])
    expect(lines).toContain('Summary')
    expect(outbox).toEqual({ committed: 1, rolledBack: 1, published: 1 })
  })
})
