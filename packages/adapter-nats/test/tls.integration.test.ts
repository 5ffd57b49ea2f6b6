import { ConnectionError, createEventBus, type EventEnvelope, silentLogger } from '@switchyard/core'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import {
  createTestPki,
  startTlsNats,
  type TestPki,
  type TlsNats,
} from '../../../tooling/tls/index.js'
import { natsTransport } from '../src/index.js'

// Private nats-servers with JetStream, a `tls {}` block and a user with a password: one
// presenting a certificate of the test's own CA, one presenting an expired one of the same CA.
let pki: TestPki | undefined
let server: TlsNats | undefined
let expired: TlsNats | undefined
const skip = await serviceOrSkip(
  'a private TLS nats-server',
  async () => {
    pki = await createTestPki()
    server = await startTlsNats(pki)
    expired = await startTlsNats(pki, { certificate: pki.expired })
  },
  { timeoutMs: 30_000 },
)

afterAll(async () => {
  await Promise.all([server?.dispose(), expired?.dispose()])
  await pki?.dispose()
})

/** A transport that does not retry: the negative cases must not wait out reconnects. */
function transport(target: TlsNats, options: { ca: string; pass?: string }) {
  return natsTransport({
    servers: target.url,
    user: target.user,
    pass: options.pass ?? target.pass,
    tls: { ca: options.ca },
    maxReconnectAttempts: 0,
    connectTimeoutMs: 5_000,
    autoStreams: { prefix: 'SYT_TLS_' },
    logger: silentLogger,
  })
}

async function connectError(target: TlsNats, options: { ca: string; pass?: string }) {
  const t = transport(target, options)
  try {
    await t.connect()
  } catch (error) {
    return error as ConnectionError
  } finally {
    await t.close()
  }
  throw new Error('connect() succeeded where it should have failed')
}

describe.skipIf(skip !== undefined)('nats tls - tls {} and user/password', () => {
  it('tls - connects with the CA, user and password, publishes and consumes over TLS', async () => {
    const bus = createEventBus({
      transport: transport(server!, { ca: pki!.ca.cert }),
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
    const error = await connectError(server!, { ca: pki!.otherCa.cert })
    expect(error).toBeInstanceOf(ConnectionError)
    expect(error.retryable).toBe(false)
    expect(error.message).toMatch(/TLS/)
    expect(error.message).toMatch(/not signed by a CA this client trusts/)
    expect(error.message).toMatch(/tls\.ca/)
  })

  it('tls - an expired server certificate fails connect with a ConnectionError saying it expired', async () => {
    const error = await connectError(expired!, { ca: pki!.ca.cert })
    expect(error).toBeInstanceOf(ConnectionError)
    expect(error.retryable).toBe(false)
    expect(error.message).toMatch(/certificate has expired/i)
  })

  it('tls - a wrong password fails connect with a ConnectionError naming the credentials', async () => {
    const error = await connectError(server!, { ca: pki!.ca.cert, pass: 'wrong-password' })
    expect(error).toBeInstanceOf(ConnectionError)
    expect(error.retryable).toBe(false)
    expect(error.message).toMatch(/refused the credentials/)
  })
})
