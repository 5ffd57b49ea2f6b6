import { ConfigurationError, silentLogger } from '@switchyard/core'
import { describe, expect, it } from 'vitest'
import type { OutboxDriver } from './driver.js'
import { resolveRelayOptions } from './options.js'

const driver = { transaction: async () => undefined } as unknown as OutboxDriver
const bus = { publishBatch: async () => undefined }

describe('relay options', () => {
  it('options - applies the documented defaults', () => {
    const o = resolveRelayOptions({ driver, bus })
    expect(o).toMatchObject({
      batchSize: 500,
      lanesPerClaim: 64,
      concurrency: 1,
      pollIntervalMs: 1_000,
      maxAttempts: 20,
      publishTimeoutMs: 30_000,
      retentionMs: 86_400_000,
      cleanupIntervalMs: 60_000,
    })
    expect(o.names.table).toBe('"outbox"')
    expect(o.backoff(1)).toBeLessThanOrEqual(500)
    expect(o.backoff(30)).toBeLessThanOrEqual(300_000)
  })

  it('options - fails at construction with the field named', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ bus }, 'driver'],
      [{ driver }, 'bus'],
      [{ driver, bus, batchSize: 0 }, 'batchSize'],
      [{ driver, bus, batchSize: 1.5 }, 'batchSize'],
      [{ driver, bus, lanesPerClaim: 5_000 }, 'lanesPerClaim'],
      [{ driver, bus, concurrency: 0 }, 'concurrency'],
      [{ driver, bus, retentionMs: -1 }, 'retentionMs'],
      [{ driver, bus, backoff: 5 }, 'backoff'],
      [{ driver, bus, table: 'Bad Name' }, 'table'],
      [{ driver, bus, batchsize: 10 }, 'createRelay.batchsize'],
      [{ driver, bus, logger: console.log }, 'logger'],
      [{ driver, bus: { ...bus, logger: {} } }, 'logger'],
    ]
    for (const [options, field] of cases) {
      let error: unknown
      try {
        resolveRelayOptions(options as never)
      } catch (e) {
        error = e
      }
      expect(error, field).toBeInstanceOf(ConfigurationError)
      expect((error as ConfigurationError).field).toBe(field)
    }
  })

  it('options - the logger is the given one, else the bus logger, else silent', () => {
    const mine = { debug() {}, info() {}, warn() {}, error() {} }
    const theBus = { debug() {}, info() {}, warn() {}, error() {} }
    expect(resolveRelayOptions({ driver, bus, logger: mine }).logger).toBe(mine)
    expect(resolveRelayOptions({ driver, bus: { ...bus, logger: theBus } }).logger).toBe(theBus)
    expect(resolveRelayOptions({ driver, bus }).logger).toBe(silentLogger)
  })
})
