import { describe, expect, it } from 'vitest'
import { createEvent } from './envelope.js'
import { ConfigurationError } from './errors.js'

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError)
    return (error as ConfigurationError).field
  }
  throw new Error('expected a ConfigurationError')
}

describe('envelope', () => {
  it('envelope - fills id (UUID), ISO time, specversion and the default source', () => {
    const event = createEvent({ type: 'x.y' }, { source: 'svc' })
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(new Date(event.time).toISOString()).toBe(event.time)
    expect(event).toMatchObject({ specversion: '1.0', source: 'svc', type: 'x.y' })
    expect(createEvent({ type: 'x' }, { source: 's' }).id).not.toBe(event.id)
  })

  it('envelope - generated ids are UUID-shaped (v4 version and variant) and never repeat', () => {
    const ids = new Set<string>()
    // More than one block of 65 536, so the leading digits move on at least once.
    for (let i = 0; i < 70_000; i++) ids.add(createEvent({ type: 'x' }, { source: 's' }).id)
    expect(ids.size).toBe(70_000)
    for (const id of [...ids].slice(65_530, 65_540)) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    }
  })

  it('envelope - missing or malformed fields are ConfigurationErrors naming the field', () => {
    expect(fieldOf(() => createEvent({} as never, { source: 's' }))).toBe('type')
    expect(fieldOf(() => createEvent({ type: 'x' }))).toBe('source')
    expect(fieldOf(() => createEvent({ type: 'x', source: 's', time: 'yesterday' }))).toBe('time')
    expect(fieldOf(() => createEvent({ type: 'x', source: 's', subject: 5 as never }))).toBe(
      'subject',
    )
    expect(fieldOf(() => createEvent({ type: 'x', source: 's', colour: 'red' } as never))).toBe(
      'colour',
    )
    expect(
      fieldOf(() => createEvent({ type: 'x', source: 's', extensions: { 'Bad-Name': 'v' } })),
    ).toBe('extensions.Bad-Name')
  })
})
