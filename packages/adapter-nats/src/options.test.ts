import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigurationError } from '@switchyard/core/transport'
import { describe, expect, it } from 'vitest'
import { fromEnv, resolveOptions } from './options.js'
import { natsTransport } from './transport.js'

describe('options - defaults and validation', () => {
  it('options - defaults are applied', () => {
    const o = resolveOptions({})
    expect(o.servers).toEqual(['nats://127.0.0.1:4222'])
    expect(o.autoStreams).toEqual({ prefix: 'SY_' })
    expect(o).toMatchObject({ ackWaitMs: 30_000, maxDeliver: -1, publishWindow: 256 })
    expect(o.apiPrefix).toBe('$JS.API')
    expect(resolveOptions({ domain: 'hub' }).apiPrefix).toBe('$JS.hub.API')
  })

  it('options - a comma-separated server list is split', () => {
    expect(resolveOptions({ servers: 'nats://a:4222, nats://b:4222' }).servers).toEqual([
      'nats://a:4222',
      'nats://b:4222',
    ])
  })

  it('options - unknown and out-of-range options fail naming the field', () => {
    expect(() => resolveOptions({ ackWait: 1 } as never)).toThrow(/natsTransport\.ackWait/)
    expect(() => resolveOptions({ publishWindow: 0 })).toThrow(ConfigurationError)
    expect(() => resolveOptions({ streams: [{ name: 'bad.name' }] })).toThrow(/streams\[0\]\.name/)
    expect(() => resolveOptions({ streams: [{ name: 'S', subjects: [] }] })).toThrow(/subjects/)
    expect(() => resolveOptions({ autoStreams: { storage: 'disk' as never } })).toThrow(/storage/)
    expect(() => resolveOptions({ autoStreams: { prefix: 'a.b' } })).toThrow(/prefix/)
    expect(() => resolveOptions({ servers: [] })).toThrow(/servers/)
  })
})

describe('options - fromEnv', () => {
  it('fromEnv - reads NATS_URL and the Anumate stream variables', () => {
    const options = fromEnv({
      NATS_URL: 'nats://n1:4222,nats://n2:4222',
      STREAM_NAME: 'ANUMATE_EVENTS',
      STREAM_SUBJECTS: 'anumate.*.*',
      MAX_MSGS: '1000000',
      MAX_BYTES: '1073741824',
      MAX_AGE: '604800',
      DEAD_LETTER_STREAM: 'ANUMATE_DEAD_LETTERS',
      DEAD_LETTER_SUBJECTS: 'anumate.*.*.dlq',
      MAX_DELIVER_ATTEMPTS: '5',
    })
    expect(options.servers).toBe('nats://n1:4222,nats://n2:4222')
    expect(options.streams).toEqual([
      {
        name: 'ANUMATE_EVENTS',
        subjects: ['anumate.*.*'],
        maxMsgs: 1_000_000,
        maxBytes: 1_073_741_824,
        maxAgeMs: 604_800_000,
      },
      { name: 'ANUMATE_DEAD_LETTERS', subjects: ['anumate.*.*.dlq'] },
    ])
    expect(options.maxDeliver).toBe(5)
    // The bus's attempt budget follows the server's cap.
    expect(options.subscribeDefaults).toEqual({ retry: { maxAttempts: 5 } })
    expect(natsTransport(options).subscribeDefaults).toEqual({ retry: { maxAttempts: 5 } })
    expect(() => resolveOptions(options)).not.toThrow()
  })

  it('fromEnv - stream names without subjects derive them; NATS_CLUSTER_ID is refused', () => {
    const options = fromEnv({
      STREAM_NAME: 'ANUMATE_EVENTS_PROD',
      DEAD_LETTER_STREAM: 'ANUMATE_DEAD_LETTERS_PROD',
    })
    expect(options.streams).toEqual([
      { name: 'ANUMATE_EVENTS_PROD', subjects: ['anumate.*'] },
      { name: 'ANUMATE_DEAD_LETTERS_PROD', subjects: ['anumate.*.dlq'] },
    ])
    // The dead letters follow the main subjects and the bus's suffix.
    const custom = fromEnv({
      STREAM_NAME: 'HR',
      STREAM_SUBJECTS: 'hr.*,payroll.*',
      DEAD_LETTER_STREAM: 'HR_DLQ',
      DLQ_TOPIC_SUFFIX: '.dead',
    })
    expect(custom.streams?.[1]).toEqual({
      name: 'HR_DLQ',
      subjects: ['hr.*.dead', 'payroll.*.dead'],
    })
    const field = (env: Record<string, string>) => {
      try {
        fromEnv(env)
      } catch (error) {
        return (error as { field?: string }).field
      }
      return undefined
    }
    expect(field({ STREAM_NAME: 'S', STREAM_SUBJECTS: 'hr.>', DEAD_LETTER_STREAM: 'D' })).toBe(
      'DEAD_LETTER_SUBJECTS',
    )
    expect(field({ DEAD_LETTER_STREAM: 'D', DLQ_TOPIC_SUFFIX: '-dlq' })).toBe(
      'DEAD_LETTER_SUBJECTS',
    )
    expect(field({ STREAM_SUBJECTS: 'hr.*' })).toBe('STREAM_SUBJECTS')
    expect(field({ DEAD_LETTER_SUBJECTS: 'hr.*.dlq' })).toBe('DEAD_LETTER_SUBJECTS')
    expect(field({ NATS_CLUSTER_ID: 'anumate-cluster' })).toBe('NATS_CLUSTER_ID')
    expect(() => fromEnv({ NATS_CLUSTER_ID: 'c' })).toThrow(/NATS Streaming/)
    expect(fromEnv({ NATS_JS_DOMAIN: 'hub' }).domain).toBe('hub')
  })

  it('fromEnv - the bus defaults come from core, MAX_DELIVER_ATTEMPTS fills in the budget', () => {
    const options = fromEnv({
      EVENTS_MAX_RETRIES: '2',
      DLQ_TOPIC_SUFFIX: '.dead',
      MAX_DELIVER_ATTEMPTS: '5',
    })
    expect(options.maxDeliver).toBe(5)
    expect(options.subscribeDefaults?.retry?.maxAttempts).toBe(3)
    expect(options.subscribeDefaults?.deadLetter).toEqual({ suffix: '.dead' })
    expect(fromEnv({ DLQ_ENABLED: 'false' }).subscribeDefaults).toEqual({ deadLetter: false })
    expect(fromEnv({ MAX_MSGS: '-1' }).autoStreams).toEqual({ maxMsgs: -1 })
  })

  it('fromEnv - limits without a stream name apply to the automatic streams', () => {
    expect(fromEnv({ MAX_AGE: '60' })).toEqual({ autoStreams: { maxAgeMs: 60_000 } })
    expect(fromEnv({})).toEqual({})
  })

  it('fromEnv - credentials and TLS files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-nats-env-'))
    const seed = join(dir, 'user.nk')
    writeFileSync(seed, 'SUAEXAMPLESEED\n')
    const options = fromEnv({
      NATS_NKEY: seed,
      NATS_TOKEN: 't',
      NATS_CA: '/ca.pem',
      NATS_CERT: '/c',
      NATS_KEY: '/k',
    })
    expect(options).toMatchObject({ nkeySeed: 'SUAEXAMPLESEED', token: 't' })
    expect(options.tls).toEqual({ caFile: '/ca.pem', certFile: '/c', keyFile: '/k' })
    expect(() => fromEnv({ NATS_NKEY: join(dir, 'missing') })).toThrow(/NATS_NKEY/)
    expect(() => fromEnv({ MAX_MSGS: 'lots' })).toThrow(/MAX_MSGS/)
  })
})
