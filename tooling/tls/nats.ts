// A nats-server with JetStream that requires TLS and a user with a password.
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { KeyPair, TestPki } from './certificates.js'
import { firstReply, ServerProcess, sparePort } from './process.js'

/** A private TLS NATS server: where it listens, its user, and how to stop it. */
export interface TlsNats {
  /** Loopback port; every client must upgrade to TLS. */
  readonly port: number
  /** `tls://127.0.0.1:<port>`. */
  readonly url: string
  /** The one user the server accepts. */
  readonly user: string
  /** That user's password. */
  readonly pass: string
  /** Stops the server and deletes its directory (config, JetStream store). */
  dispose(): Promise<void>
}

/** Debian installs nats-server outside a normal user's PATH. */
function natsServerBinary(): string {
  return existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server'
}

/**
 * Starts `nats-server -js` from a config with a `tls {}` block presenting `certificate` (the
 * PKI's valid server certificate unless told otherwise) and `authorization { user, password }`.
 * @throws {Error} when nats-server is missing or does not start in time.
 */
export async function startTlsNats(
  pki: TestPki,
  options: { certificate?: KeyPair; user?: string; pass?: string } = {},
): Promise<TlsNats> {
  const certificate = options.certificate ?? pki.server
  const user = options.user ?? 'switchyard'
  const pass = options.pass ?? 'nats-tls-secret'
  const port = await sparePort()
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-nats-tls-'))
  const config = join(dir, 'nats.conf')
  await writeFile(
    config,
    `listen: "127.0.0.1:${port}"
jetstream { store_dir: ${JSON.stringify(join(dir, 'js'))} }
tls {
  cert_file: ${JSON.stringify(certificate.certFile)}
  key_file: ${JSON.stringify(certificate.keyFile)}
  timeout: 2
}
authorization { user: ${JSON.stringify(user)}, password: ${JSON.stringify(pass)} }
`,
  )
  const server = new ServerProcess('nats-server (TLS)', natsServerBinary(), ['-c', config])
  try {
    // The INFO line goes out before the TLS upgrade; JetStream is on once it says so.
    await server.waitReady(async () => {
      const info = (await firstReply(port))?.toString('utf8') ?? ''
      return info.includes('"tls_required":true') && info.includes('"jetstream":true')
    }, 15_000)
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
  return {
    port,
    user,
    pass,
    url: `tls://127.0.0.1:${port}`,
    async dispose() {
      await server.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
