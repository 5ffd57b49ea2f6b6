import { ConnectionError, createEventBus, type Logger, silentLogger } from '@switchyard/core'
import { serviceOrSkip } from '@switchyard/testkit'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { redisTransport } from '../src/index.js'
import { hasRedisServer, PrivateRedis, uniquePrefix } from './helpers.js'

// A server of this file's own that demands a password (a failure under CI without the binary).
let server: PrivateRedis | undefined
const skip = await serviceOrSkip('a private redis-server with a password', async () => {
  if (!hasRedisServer()) throw new Error('redis-server is not on the PATH')
  server = await PrivateRedis.start('s3cret')
})
afterAll(() => server?.destroy())

const keyPrefix = uniquePrefix('errors')

/** What a first publish over `url` fails with. */
async function firstPublishError(url: string): Promise<ConnectionError> {
  const bus = createEventBus({
    transport: redisTransport({ url, keyPrefix, connectTimeoutMs: 3_000 }),
    source: 'errors',
    publishRetry: false,
    logger: silentLogger,
  })
  try {
    const error = await bus.publish('errors.t', { type: 'errors.test' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConnectionError)
    return error as ConnectionError
  } finally {
    await bus.close()
  }
}

describe.skipIf(skip !== undefined)('redis errors - each misconfiguration says which', () => {
  it('errors - a port with no server keeps ECONNREFUSED and names no repository script', async () => {
    const nobody = await PrivateRedis.reserve()
    const error = await firstPublishError(nobody.url)
    expect(error.message).toMatch(/ECONNREFUSED/)
    expect(error.message).toMatch(new RegExp(`127\\.0\\.0\\.1:${nobody.port}`))
    expect(error.message).not.toMatch(/tooling\/services|Connection is closed/)
    expect(error.retryable).toBe(true)
  })

  it('errors - a wrong password is WRONGPASS, not retryable, and the password is not in the message', async () => {
    const error = await firstPublishError(server!.urlWith('wrong-one'))
    expect(error.message).toMatch(/WRONGPASS/)
    expect(error.message).toMatch(/password/i)
    expect(error.message).not.toMatch(/wrong-one|Connection is closed|Is Redis running/)
    expect(error.retryable).toBe(false)
  })

  it('errors - no password for a server that needs one is NOAUTH, not retryable', async () => {
    const error = await firstPublishError(server!.url)
    expect(error.message).toMatch(/NOAUTH/)
    expect(error.message).toMatch(/needs a password/)
    expect(error.message).not.toMatch(/Connection is closed|Is Redis running/)
    expect(error.retryable).toBe(false)
  })

  it('errors - the right password connects', async () => {
    const transport = redisTransport({ url: server!.urlWith('s3cret'), keyPrefix })
    await transport.connect()
    expect((await transport.health()).status).toBe('up')
    await transport.close()
  })

  it("logging - a user who may not run INFO: ioredis's ready-check warning goes to the logger, not the console", async () => {
    const admin = new Redis(server!.urlWith('s3cret'))
    await admin.call('ACL', 'SETUSER', 'limited', 'on', '>pw', '~*', '&*', '+@all', '-info')
    await admin.quit()
    const consoleWarn = vi.spyOn(console, 'warn')
    const messages: string[] = []
    const at = (_fields: object, message?: string) => void messages.push(message ?? '')
    const logger: Logger = { debug: at, info: at, warn: at, error: at }
    const url = `redis://limited:pw@127.0.0.1:${server!.port}`
    const bus = createEventBus({ transport: redisTransport({ url, keyPrefix }), logger })
    try {
      await bus.publish('errors.limited', { type: 'errors.test', source: 't' })
      const sub = await bus.subscribe('errors.limited', () => undefined, { group: 'g' })
      await sub.close()
    } finally {
      await bus.close()
    }
    const warned = consoleWarn.mock.calls.length
    consoleWarn.mockRestore()
    expect(warned).toBe(0)
    expect(messages.filter((m) => /may not run INFO/.test(m)).length).toBeGreaterThanOrEqual(2)
  })
})
