import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigurationError, ConnectionError, createEventBus, type Logger } from '@switchyard/core'
import { serviceOrSkip, sparePort, waitUntil } from '@switchyard/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { fromEnv, natsTransport } from '../src/index.js'
import { PrivateServer } from './nats-server.js'

// A server of this file's own that demands a user and password, stopped and started at will.
let server: PrivateServer | undefined
const skip = await serviceOrSkip(
  'a private nats-server',
  async () => {
    server = await PrivateServer.start(['--user', 'ada', '--pass', 'pw'], {
      user: 'ada',
      pass: 'pw',
    })
  },
  { timeoutMs: 20_000 },
)
afterAll(() => server?.dispose())

/** A logger that keeps what it is given. */
function recordingLogger(): Logger & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = []
  const at = (level: string) => (_fields: object, message?: string) =>
    void lines.push({ level, message: message ?? '' })
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

describe('nats errors - configuration refused at construction', () => {
  it('errors - an http:// server URL is a ConfigurationError naming servers', () => {
    for (const servers of ['http://127.0.0.1:4222', 'https://nats.example:4222', 'redis://x:1']) {
      const error = (() => {
        try {
          natsTransport({ servers })
        } catch (e) {
          return e
        }
      })()
      expect(error).toBeInstanceOf(ConfigurationError)
      expect((error as ConfigurationError).field).toBe('natsTransport.servers')
      expect((error as Error).message).toMatch(/nats:\/\/ or tls:\/\//)
    }
    // What nats.js takes: nats://, tls://, and a bare host:port.
    for (const servers of ['nats://127.0.0.1:4222', 'tls://h:4222', '127.0.0.1:4222']) {
      expect(() => natsTransport({ servers })).not.toThrow()
    }
  })

  it('errors - a credsFile that does not exist is a ConfigurationError at construction', () => {
    const missing = join(tmpdir(), `sy-missing-${process.pid}.creds`)
    expect(() => natsTransport({ credsFile: missing })).toThrow(ConfigurationError)
    expect(() => natsTransport(fromEnv({ NATS_CREDS: missing }))).toThrow(/NATS_CREDS/)
  })

  it('errors - a credsFile that holds no credentials is a ConfigurationError at construction', () => {
    const empty = join(tmpdir(), `sy-empty-${process.pid}.creds`)
    writeFileSync(empty, 'not a creds file\n')
    expect(() => natsTransport({ credsFile: empty })).toThrow(ConfigurationError)
  })
})

describe.skipIf(skip !== undefined)('nats errors - connect failures say what to check', () => {
  it('errors - refused credentials are not retryable and get no "is nats-server running" hint', async () => {
    const transport = natsTransport({
      servers: server!.url,
      user: 'ada',
      pass: 'wrong',
      maxReconnectAttempts: 0,
    })
    const error = (await transport.connect().catch((e: unknown) => e)) as ConnectionError
    expect(error).toBeInstanceOf(ConnectionError)
    expect(error.message).toMatch(/[Aa]uthorization/)
    expect(error.message).toMatch(/credentials/)
    expect(error.message).not.toMatch(/nats-server running|tooling\/services|wrong/)
    expect(error.retryable).toBe(false)
  })

  it('errors - a port with no server keeps the cause and names no repository script', async () => {
    const port = await sparePort()
    const transport = natsTransport({
      servers: `nats://127.0.0.1:${port}`,
      maxReconnectAttempts: 0,
      connectTimeoutMs: 2_000,
    })
    const error = (await transport.connect().catch((e: unknown) => e)) as ConnectionError
    expect(error).toBeInstanceOf(ConnectionError)
    expect(error.message).toMatch(/CONNECTION_REFUSED|ECONNREFUSED|refused/i)
    expect(error.message).not.toMatch(/tooling\/services/)
    expect(error.retryable).toBe(true)
  })
})

describe.skipIf(skip !== undefined)(
  'nats logging - the connection is logged where the user says',
  () => {
    it("logging - a lost connection is a warning and its return an info line on the bus's logger", async () => {
      const logger = recordingLogger()
      const bus = createEventBus({
        transport: natsTransport({ servers: server!.url, user: 'ada', pass: 'pw' }),
        logger,
      })
      try {
        await bus.connect()
        await server!.restart()
        await waitUntil(
          () => logger.lines.some((l) => l.level === 'info' && /reconnected/.test(l.message)),
          { timeoutMs: 15_000, message: 'the reconnect line' },
        )
        expect(logger.lines.find((l) => /disconnected/.test(l.message))?.level).toBe('warn')
      } finally {
        await bus.close()
      }
    })
  },
)
