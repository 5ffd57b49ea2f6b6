import { ConnectionError } from '@switchyard/core'
import { serviceOrSkip } from '@switchyard/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { natsTransport } from '../src/index.js'
import { PrivateServer } from './nats-server.js'

// Servers of this file's own that demand credentials: a token, and a user with a password.
const servers: PrivateServer[] = []
const skip = await serviceOrSkip(
  'a private nats-server',
  async () => {
    const started = await Promise.allSettled([
      PrivateServer.start(['--auth', 's3cret'], { token: 's3cret' }),
      PrivateServer.start(['--user', 'ada', '--pass', 'pw'], { user: 'ada', pass: 'pw' }),
    ])
    // Keep whatever started, so afterAll stops it even when the other one failed.
    for (const result of started) if (result.status === 'fulfilled') servers.push(result.value)
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed !== undefined) throw failed.reason
  },
  { timeoutMs: 20_000 },
)

afterAll(async () => {
  await Promise.all(servers.map((s) => s.dispose()))
})

describe.skipIf(skip !== undefined)('nats auth - credentials from NatsConfig', () => {
  it('auth - a token opens the connection; a wrong one fails connect with a ConnectionError', async () => {
    const ok = natsTransport({ servers: servers[0]!.url, token: 's3cret' })
    await ok.connect()
    expect((await ok.health()).status).toBe('up')
    await ok.close()
    const wrong = natsTransport({
      servers: servers[0]!.url,
      token: 'nope',
      maxReconnectAttempts: 0,
    })
    await expect(wrong.connect()).rejects.toBeInstanceOf(ConnectionError)
  })

  it('auth - user and password open the connection; none fails connect', async () => {
    const ok = natsTransport({ servers: servers[1]!.url, user: 'ada', pass: 'pw' })
    await ok.connect()
    expect(ok.server?.version).toMatch(/^\d+\.\d+\.\d+/)
    await ok.close()
    const anonymous = natsTransport({ servers: servers[1]!.url, maxReconnectAttempts: 0 })
    await expect(anonymous.connect()).rejects.toThrow(/Could not connect to NATS.*[Aa]uthorization/)
  })
})
