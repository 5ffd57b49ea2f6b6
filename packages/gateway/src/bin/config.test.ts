import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigurationError } from '@switchyard/core'
import { afterAll, describe, expect, test } from 'vitest'
import { readConfig } from './config.js'

describe('bin configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-gateway-config-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const base = { SWITCHYARD_DATA_DIR: dir }

  test("config - Marty's KAFKA_BROKERS chooses Kafka like KAFKA_BOOTSTRAP_SERVERS", async () => {
    expect((await readConfig({ ...base, KAFKA_BROKERS: '127.0.0.1:9092' })).transport).toBe('kafka')
    expect((await readConfig(base)).transport).toBe('memory')
  })

  test('config - flags use the one boolean parser: on/off read, anything else names the variable', async () => {
    const on = await readConfig({ ...base, METRICS_ENABLED: 'on', TRACING_ENABLED: 'no' })
    expect(on).toMatchObject({ metrics: true, tracing: false })
    await expect(readConfig({ ...base, METRICS_ENABLED: 'maybe' })).rejects.toThrow(
      /METRICS_ENABLED/,
    )
    await expect(readConfig({ ...base, TRACING_ENABLED: 'maybe' })).rejects.toBeInstanceOf(
      ConfigurationError,
    )
  })

  test('config - a bad number, transport or public address without a key is a ConfigurationError naming it', async () => {
    const field = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (error: ConfigurationError) => error.field,
      )
    expect(await field(readConfig({ ...base, API_PORT: 'eighty' }))).toBe('API_PORT')
    expect(await field(readConfig({ ...base, SWITCHYARD_TRANSPORT: 'smoke' }))).toBe(
      'SWITCHYARD_TRANSPORT',
    )
    expect(await field(readConfig({ ...base, API_HOST: '0.0.0.0' }))).toBe('API_HOST')
  })

  test('config - WEBHOOK_ALLOW_NETWORKS lists the SSRF allow-list; a bad entry names the variable', async () => {
    expect((await readConfig(base)).webhookAllowNetworks).toEqual([])
    const listed = await readConfig({
      ...base,
      WEBHOOK_ALLOW_NETWORKS: ' 10.0.0.0/8, 127.0.0.1 fd00::/8,',
    })
    expect(listed.webhookAllowNetworks).toEqual(['10.0.0.0/8', '127.0.0.1', 'fd00::/8'])
    const bad = await readConfig({ ...base, WEBHOOK_ALLOW_NETWORKS: '10.0.0.0/8,intranet' }).then(
      () => undefined,
      (error: ConfigurationError) => error,
    )
    expect(bad).toBeInstanceOf(ConfigurationError)
    expect(bad?.field).toBe('WEBHOOK_ALLOW_NETWORKS')
    expect(bad?.message).toMatch(/"intranet" is not an IP address/)
  })
})
