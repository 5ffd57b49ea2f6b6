import { describe, expect, it } from 'vitest'
import { atLeast, serverFeatures } from './server-features.js'

describe('server features - detection by version', () => {
  it('server features - 2.9 has no multiple filter subjects, 2.10 and later do', () => {
    expect(serverFeatures('2.9.10').multipleFilterSubjects).toBe(false)
    expect(serverFeatures('2.10.0').multipleFilterSubjects).toBe(true)
    expect(serverFeatures('2.11.3-beta').multipleFilterSubjects).toBe(true)
    expect(serverFeatures('v3.0.0').multipleFilterSubjects).toBe(true)
  })

  it('server features - versions compare numerically, not as text', () => {
    expect(atLeast('2.10.0', '2.9.0')).toBe(true)
    expect(atLeast('2.9.10', '2.10.0')).toBe(false)
    expect(atLeast('2.9.10', '2.9.10')).toBe(true)
    expect(atLeast('garbage', '0.0.1')).toBe(false)
  })
})
