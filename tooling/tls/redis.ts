// A redis-server that speaks TLS only (`--port 0 --tls-port`), with a password.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'node:tls'
import type { KeyPair, TestPki } from './certificates.js'
import { ServerProcess, sparePort } from './process.js'

/** A private TLS Redis: where it listens, its password, and how to stop it. */
export interface TlsRedis {
  /** Loopback port of the TLS listener (there is no plain one). */
  readonly port: number
  /** `rediss://:<password>@127.0.0.1:<port>`. */
  readonly url: string
  /** The password the server requires (`requirepass`). */
  readonly password: string
  /** Stops the server and deletes its directory. */
  dispose(): Promise<void>
}

/** True when a TLS connection (trusting anything) gets `+PONG` back after AUTH and PING. */
function answersPing(port: number, password: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false })
    let reply = ''
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1_000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('secureConnect', () => socket.write(`AUTH ${password}\r\nPING\r\n`))
    socket.on('data', (data: Buffer) => {
      reply += data.toString('utf8')
      if (reply.includes('+PONG')) done(true)
      else if (reply.includes('-')) done(false)
    })
  })
}

/**
 * Starts `redis-server` with TLS on a spare port, presenting `certificate` (the PKI's valid
 * server certificate unless told otherwise), no persistence, and `password` required.
 * @throws {Error} when redis-server is missing, built without TLS, or does not start in time.
 */
export async function startTlsRedis(
  pki: TestPki,
  options: { certificate?: KeyPair; password?: string } = {},
): Promise<TlsRedis> {
  const certificate = options.certificate ?? pki.server
  const password = options.password ?? 'redis-tls-secret'
  const port = await sparePort()
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-redis-tls-'))
  const args = ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1']
    .concat(['--tls-cert-file', certificate.certFile, '--tls-key-file', certificate.keyFile])
    .concat(['--tls-ca-cert-file', pki.ca.certFile, '--tls-auth-clients', 'no'])
    .concat(['--requirepass', password, '--save', '', '--appendonly', 'no', '--dir', dir])
  const server = new ServerProcess('redis-server (TLS)', 'redis-server', args)
  try {
    await server.waitReady(() => answersPing(port, password), 15_000)
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
  return {
    port,
    password,
    url: `rediss://:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    async dispose() {
      await server.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
