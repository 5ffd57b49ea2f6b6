import { spawnSync } from 'node:child_process'
import { ConnectionError, createEventBus, type EventEnvelope, silentLogger } from '@switchyard/core'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import {
  createTestPki,
  startTlsRedis,
  type TestPki,
  type TlsRedis,
} from '../../../tooling/tls/index.js'
import { redisTransport } from '../src/index.js'

// Private redis-servers that speak TLS only and want a password: one presenting a certificate
// of the test's own CA, one presenting an expired certificate of the same CA.
let pki: TestPki | undefined
let server: TlsRedis | undefined
let expired: TlsRedis | undefined
const skip = await serviceOrSkip(
  'a private TLS redis-server',
  async () => {
    const version = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
    if (version.status !== 0) throw new Error('redis-server is not installed')
    pki = await createTestPki()
    server = await startTlsRedis(pki)
    expired = await startTlsRedis(pki, { certificate: pki.expired })
  },
  { timeoutMs: 30_000 },
)

afterAll(async () => {
  await Promise.all([server?.dispose(), expired?.dispose()])
  await pki?.dispose()
})

/** A transport that gives up at once: the negative cases must not wait out reconnects. */
function transport(url: string, tls: { ca: string }) {
  return redisTransport({ url, tls, connectTimeoutMs: 5_000, logger: silentLogger })
}

async function connectError(url: string, tls: { ca: string }): Promise<ConnectionError> {
  const t = transport(url, tls)
  try {
    await t.connect()
  } catch (error) {
    return error as ConnectionError
  } finally {
    await t.close()
  }
  throw new Error('connect() succeeded where it should have failed')
}

describe.skipIf(skip !== undefined)('redis tls - a TLS-only server with a password', () => {
  it('tls - connects with the CA and password, publishes and consumes over TLS', async () => {
    const bus = createEventBus({
      transport: transport(server!.url, { ca: pki!.ca.cert }),
      source: 'tls-test',
      logger: silentLogger,
    })
    try {
      const seen: EventEnvelope[] = []
      await bus.subscribe('tls.events', (event) => void seen.push(event), { group: 'tls' })
      await bus.publish('tls.events', { type: 'tls.checked', data: { over: 'tls' } })
      await waitUntil(() => seen.length === 1, { timeoutMs: 10_000, message: 'the event' })
      expect(seen[0]!.data).toEqual({ over: 'tls' })
      expect((await bus.health()).status).toBe('up')
    } finally {
      await bus.close()
    }
  })

  it('tls - a server certificate from another CA fails connect with a ConnectionError naming the certificate check', async () => {
    const error = await connectError(server!.url, { ca: pki!.otherCa.cert })
    expect(error).toBeInstanceOf(ConnectionError)
    expect(error.retryable).toBe(false)
    expect(error.message).toMatch(/TLS/)
    expect(error.message).toMatch(/not signed by a CA this client trusts|self[- ]signed/i)
    expect(error.message).toMatch(/tls\.ca/)
  })

  it('tls - an expired server certificate fails connect with a ConnectionError saying it expired', async () => {
    const error = await connectError(expired!.url, { ca: pki!.ca.cert })
    expect(error).toBeInstanceOf(ConnectionError)
    expect(error.retryable).toBe(false)
    expect(error.message).toMatch(/certificate has expired/i)
  })

  it('tls - a wrong password fails connect with a ConnectionError naming the credentials', async () => {
    const url = server!.url.replace(encodeURIComponent(server!.password), 'wrong-password')
    const error = await connectError(url, { ca: pki!.ca.cert })
    expect(error).toBeInstanceOf(ConnectionError)
    expect(error.retryable).toBe(false)
    expect(error.message).toMatch(/refused the credentials|WRONGPASS/)
  })
})
