import { describe, expect, it } from 'vitest'
import { IdMemory } from '../src/id-memory.js'

describe('IdMemory', () => {
  it('takes an id once, exactly: different ids never count as taken, however many', () => {
    const memory = new IdMemory()
    const ids = Array.from({ length: 50_000 }, (_, i) => `event-${i}-${(i * 7919) % 1_000}`)
    expect(ids.filter((id) => memory.take(id, 0, 1_000)).length).toBe(ids.length)
    expect(ids.filter((id) => memory.take(id, 1, 1_000)).length).toBe(0)
    expect(memory.has('event-50000-0')).toBe(false)
    expect(memory.has(ids[123] as string)).toBe(true)
    // Non-ASCII ids are compared by their bytes too.
    expect(memory.take('ключ-é-1', 2, 1_000)).toBe(true)
    expect(memory.take('ключ-é-2', 2, 1_000)).toBe(true)
    expect(memory.take('ключ-é-1', 2, 1_000)).toBe(false)
  })

  it('remembers an id at least its lifetime and forgets it within two', () => {
    const memory = new IdMemory()
    expect(memory.take('a', 0, 100)).toBe(true)
    expect(memory.take('b', 60, 100)).toBe(true)
    // A new generation starts at 100: a and b are still remembered.
    expect(memory.take('c', 100, 100)).toBe(true)
    expect(memory.has('a')).toBe(true)
    expect(memory.take('b', 150, 100)).toBe(false)
    // At 200 the generation holding a and b is dropped.
    expect(memory.take('d', 200, 100)).toBe(true)
    expect(memory.has('a')).toBe(false)
    expect(memory.has('c')).toBe(true)
    expect(memory.take('a', 201, 100)).toBe(true)
  })
})
