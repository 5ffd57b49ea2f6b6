import { describe, expect, it } from 'vitest'
import { AttemptMemory } from './attempt-memory.js'

describe('attempt memory - carried attempts', () => {
  it('attempt memory - a remembered attempt is returned once', () => {
    const memory = new AttemptMemory()
    memory.remember('S/C/1', 4, 1_000)
    expect(memory.take('S/C/1')).toBe(4)
    expect(memory.take('S/C/1')).toBeUndefined()
  })

  it('attempt memory - expired entries are not returned and are pruned', () => {
    const memory = new AttemptMemory()
    memory.remember('old', 2, -1)
    expect(memory.take('old')).toBeUndefined()
    memory.remember('a', 2, -1)
    memory.remember('b', 3, 1_000)
    expect(memory.size).toBe(1)
  })

  it('attempt memory - the oldest entries go beyond the limit', () => {
    const memory = new AttemptMemory(2)
    memory.remember('a', 1, 1_000)
    memory.remember('b', 1, 1_000)
    memory.remember('c', 1, 1_000)
    expect(memory.size).toBe(2)
    expect(memory.take('a')).toBeUndefined()
    expect(memory.take('c')).toBe(1)
  })
})

describe('attempt memory - deliveries given back unhandled', () => {
  it('attempt memory - a given-back delivery keeps a carried attempt, else its own number', () => {
    const memory = new AttemptMemory()
    memory.remember('carried', 4, 1_000)
    memory.returned('carried', 2, 1_000)
    expect(memory.take('carried')).toBe(4)
    memory.returned('fresh', 1, 1_000)
    expect(memory.take('fresh')).toBe(1)
  })
})
