import { memoryTransport } from '@switchyard/adapter-memory'
import { createEventBus, type EventEnvelope, silentLogger } from '@switchyard/core'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import {
  createTestPki,
  startTlsPostgres,
  type TestPki,
  type TlsPostgres,
} from '../../../tooling/tls/index.js'
import { createRelay, enqueue, migrate, pgDriver } from '../src/index.js'

// A private PostgreSQL that takes TCP connections over TLS only (hostssl, SCRAM-SHA-256 password;
// hostnossl rejected), presenting a certificate of the test's own CA.
let pki: TestPki | undefined
let server: TlsPostgres | undefined
const skip = await serviceOrSkip(
  'a private TLS PostgreSQL',
  async () => {
    pki = await createTestPki()
    server = await startTlsPostgres(pki)
  },
  { timeoutMs: 90_000 },
)

afterAll(async () => {
  await server?.dispose()
  await pki?.dispose()
}, 60_000)

function pool(options: { ca?: string; password?: string; ssl?: false } = {}): pg.Pool {
  const url = new URL(server!.url)
  if (options.password !== undefined) url.password = options.password
  const p = new pg.Pool({
    connectionString: url.toString(),
    max: 2,
    connectionTimeoutMillis: 5_000,
    ssl: options.ssl === false ? false : { ca: options.ca ?? pki!.ca.cert },
  })
  p.on('error', () => undefined)
  return p
}

async function connectError(p: pg.Pool): Promise<Error> {
  try {
    await p.query('SELECT 1')
  } catch (error) {
    return error as Error
  } finally {
    await p.end()
  }
  throw new Error('the query succeeded where it should have failed')
}

describe.skipIf(skip !== undefined)('outbox tls - PostgreSQL over TLS with a password', () => {
  it('tls - the relay reads the outbox over TLS and publishes what was enqueued', async () => {
    const p = pool()
    const driver = pgDriver({ pool: p })
    const bus = createEventBus({ transport: memoryTransport(), source: 'hr', logger: silentLogger })
    const relay = createRelay({ driver, bus })
    try {
      const [{ ssl }] = (await p.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'))
        .rows as [{ ssl: boolean }]
      expect(ssl).toBe(true)
      await migrate(driver)
      const seen: EventEnvelope[] = []
      await bus.subscribe('employees', (event) => void seen.push(event))
      await relay.start()
      await driver.transaction(async (tx) => {
        await enqueue(
          tx,
          'employees',
          { type: 'employee.hired', data: { id: 'e1' } },
          { source: 'hr' },
        )
      })
      await waitUntil(() => seen.length === 1, { timeoutMs: 15_000, message: 'the relayed event' })
      expect(seen[0]!.data).toEqual({ id: 'e1' })
    } finally {
      await relay.stop()
      await bus.close()
      await driver.close()
      await p.end()
    }
  })

  it('tls - a connection without TLS is refused by the server', async () => {
    const error = await connectError(pool({ ssl: false }))
    expect(error.message).toMatch(/pg_hba\.conf rejects connection .*no encryption/)
  })

  it('tls - a server certificate from another CA fails with the certificate check named', async () => {
    const error = await connectError(pool({ ca: pki!.otherCa.cert }))
    expect(error.message).toMatch(/unable to verify the first certificate/)
  })

  it('tls - a wrong password fails with the authentication named', async () => {
    const error = await connectError(pool({ password: 'wrong-password' }))
    expect(error.message).toMatch(/password authentication failed for user "postgres"/)
  })

  it('tls - an expired server certificate fails with the expiry named', async () => {
    await server!.useCertificate(pki!.expired)
    try {
      const error = await connectError(pool())
      expect(error.message).toMatch(/certificate has expired/)
    } finally {
      await server!.useCertificate(pki!.server)
    }
  })
})
