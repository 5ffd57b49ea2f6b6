import { describe, expect, it } from 'vitest'
import { runDemo } from '../src/demo.js'
import { expectDemoTally } from './expect-demo.js'

describe('demo', () => {
  it('demo - on the memory transport every event is handled and the malformed hire is dead-lettered', async () => {
    const lines: string[] = []
    const result = await runDemo({
      transport: 'memory',
      timeoutMs: 10_000,
      log: (l) => void lines.push(l),
    })
    expectDemoTally(result, lines)
    expect(result.outbox).toEqual({ committed: 1, rolledBack: 1, published: 1 })
  })
})
