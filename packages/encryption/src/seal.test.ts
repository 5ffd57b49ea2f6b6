import { randomBytes } from 'node:crypto'
import { createEvent, type EventEnvelope } from '@switchyard/core'
import { describe, expect, it } from 'vitest'
import { DecryptionError } from './errors.js'
import { open, seal } from './seal.js'

const key = { id: 'k1', key: randomBytes(32) }
const event = createEvent({
  type: 'salary.set',
  source: 'payroll',
  tenantid: 'acme',
  datacontenttype: 'application/json',
  data: { amount: 4217 },
})

function failure(sealed: EventEnvelope, keyId = 'k1', bytes = key.key): DecryptionError {
  try {
    open(sealed, keyId, bytes)
  } catch (error) {
    return error as DecryptionError
  }
  throw new Error('open() accepted it')
}

describe('seal - AES-256-GCM over data', () => {
  it('seal - open gives back the event as it was', () => {
    expect(open(seal(event, key), 'k1', key.key)).toEqual(event)
  })

  it('seal - every seal of the same event differs (a fresh IV each time)', () => {
    const a = Buffer.from(seal(event, key).data as Uint8Array)
    const b = Buffer.from(seal(event, key).data as Uint8Array)
    expect(a.equals(b)).toBe(false)
  })

  it.each([
    ['id', { id: 'other-id' }],
    ['source', { source: 'elsewhere' }],
    ['type', { type: 'salary.cut' }],
    ['tenantid', { tenantid: 'globex' }],
  ])('seal - a changed %s fails authentication', (_name, change) => {
    const error = failure({ ...seal(event, key), ...change })
    expect(error).toBeInstanceOf(DecryptionError)
    expect(error.kind).toBe('tampered')
    expect(error.retryable).toBe(false)
  })

  it('seal - a relabelled content type or another key fails authentication', () => {
    const sealed = seal(event, key)
    const relabelled = {
      ...sealed,
      extensions: { ...sealed.extensions, enccontenttype: 'text/plain' },
    }
    expect(failure(relabelled).kind).toBe('tampered')
    expect(failure(sealed, 'k1', randomBytes(32)).kind).toBe('tampered')
  })

  it('seal - data that is not a ciphertext is malformed, not a crash', () => {
    const sealed = seal(event, key)
    expect(failure({ ...sealed, data: 'text' }).kind).toBe('malformed')
    expect(failure({ ...sealed, data: new Uint8Array(10) }).kind).toBe('malformed')
    const wrongVersion = Buffer.from(sealed.data as Uint8Array)
    wrongVersion[0] = 9
    expect(failure({ ...sealed, data: wrongVersion }).message).toMatch(/not a version 1 ciphertext/)
  })
})
