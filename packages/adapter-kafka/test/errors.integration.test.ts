import { randomUUID } from 'node:crypto'
import { ConnectionError, createEventBus, type Logger, silentLogger } from '@switchyard/core'
import { serviceOrSkip, sparePort } from '@switchyard/testkit'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { kafkaTransport } from '../src/index.js'
import { BROKERS, FAST, probe } from './helpers.js'

const skip = await serviceOrSkip('Kafka', () => probe())
// Ports of other brokers on this host: something listens there, but it is not Kafka.
const REDIS =
  process.env.SWITCHYARD_REDIS_URL?.replace(/^redis:\/\/([^/]*@)?/, '') ?? '127.0.0.1:6379'
const NATS = process.env.SWITCHYARD_NATS_URL?.replace(/^nats:\/\//, '') ?? '127.0.0.1:4222'
const skipOthers = await serviceOrSkip('Redis and NATS ports (non-Kafka listeners)', async () => {
  const { connect } = await import('node:net')
  for (const address of [REDIS, NATS]) {
    const [host, port] = address.split(':')
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host: host!, port: Number(port) }, () => {
        socket.destroy()
        resolve()
      })
      socket.once('error', reject)
    })
  }
})
afterEach(() => void vi.restoreAllMocks())

/** A logger that keeps what it is given. */
function recordingLogger(): Logger & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = []
  const at = (level: string) => (_fields: object, message?: string) =>
    void lines.push({ level, message: message ?? '' })
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

/** What the first publish over `brokers` fails with, and how long it took. */
async function firstPublish(brokers: string): Promise<{ error: unknown; ms: number }> {
  const bus = createEventBus({
    transport: kafkaTransport({ ...FAST, brokers, logLevel: 'error' }),
    source: 'errors',
    logger: silentLogger,
  })
  const started = Date.now()
  try {
    const error = await bus.publish('errors.t', { type: 'errors.test' }).catch((e: unknown) => e)
    return { error, ms: Date.now() - started }
  } finally {
    await bus.close()
  }
}

describe.skipIf(skipOthers !== undefined)('kafka errors - brokers that are not Kafka', () => {
  it('errors - a NATS port as brokers fails the first publish at once: not Kafka, not retryable', async () => {
    const { error, ms } = await firstPublish(NATS)
    expect(error).toBeInstanceOf(ConnectionError)
    expect((error as ConnectionError).message).toMatch(/INFO.*which is not Kafka/)
    expect((error as ConnectionError).message).toMatch(/Kafka listener/)
    expect((error as ConnectionError).retryable).toBe(false)
    expect(ms).toBeLessThan(2_000)
  }, 60_000)

  it('errors - a Redis port (silent to Kafka requests) fails within connectTimeoutMs, not after 30 s', async () => {
    const { error, ms } = await firstPublish(REDIS)
    expect(error).toBeInstanceOf(ConnectionError)
    expect((error as ConnectionError).message).toMatch(/no Kafka answer within 5000 ms/)
    expect((error as ConnectionError).retryable).toBe(false)
    expect(ms).toBeLessThan(8_000)
  }, 60_000)
})

describe('kafka errors - a broker that is down', () => {
  it('errors - a port with no broker fails the first publish in well under a second, with the cause and no repository script', async () => {
    const consoleError = vi.spyOn(console, 'error')
    const port = await sparePort()
    const bus = createEventBus({
      transport: kafkaTransport({ ...FAST, brokers: `127.0.0.1:${port}`, logLevel: 'error' }),
      source: 'errors',
      publishRetry: false,
      logger: silentLogger,
    })
    try {
      const started = Date.now()
      const error = await bus.publish('errors.t', { type: 'errors.test' }).catch((e: unknown) => e)
      expect(Date.now() - started).toBeLessThan(1_000)
      expect(error).toBeInstanceOf(ConnectionError)
      expect((error as ConnectionError).message).toMatch(/ECONNREFUSED/)
      expect((error as ConnectionError).message).not.toMatch(/tooling\/services|kafka\.sh/)
      expect((error as ConnectionError).retryable).toBe(true)
    } finally {
      await bus.close()
    }
    expect(consoleError).not.toHaveBeenCalled()
  })

  it('health - answers down in well under a second when no broker listens', async () => {
    const port = await sparePort()
    const bus = createEventBus({
      transport: kafkaTransport({ ...FAST, brokers: `127.0.0.1:${port}` }),
      logger: silentLogger,
    })
    try {
      for (let i = 0; i < 2; i++) {
        const started = Date.now()
        const health = await bus.health()
        expect(Date.now() - started).toBeLessThan(500)
        expect(health.status).toBe('down')
        expect(health.transport.detail).toMatch(/ECONNREFUSED/)
      }
    } finally {
      await bus.close()
    }
  })
})

describe.skipIf(skip !== undefined)('kafka logging - kafkajs lines reach the bus logger', () => {
  it("logging - with no logger of its own the transport logs kafkajs's lines through the bus's logger", async () => {
    const consoleInfo = vi.spyOn(console, 'info')
    const consoleError = vi.spyOn(console, 'error')
    const logger = recordingLogger()
    const bus = createEventBus({
      transport: kafkaTransport({ ...FAST, brokers: BROKERS, logLevel: 'info' }),
      logger,
    })
    try {
      expect((await bus.health()).status).toBe('up')
      const sub = await bus.subscribe(`errors-log-${randomUUID()}`, () => undefined, {
        group: 'log',
      })
      await sub.close()
    } finally {
      await bus.close()
    }
    expect(logger.lines.some((l) => l.level === 'info' && /^kafka: /.test(l.message))).toBe(true)
    expect(consoleInfo).not.toHaveBeenCalled()
    expect(consoleError).not.toHaveBeenCalled()
  }, 60_000)
})
