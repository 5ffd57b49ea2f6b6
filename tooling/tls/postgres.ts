// A throwaway PostgreSQL cluster that accepts TCP connections over TLS only, with a password
// checked by SCRAM-SHA-256. PostgreSQL refuses to run as root: under root every server command
// runs as the `postgres` user through `runuser`.
import { execFile } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { chmod, chown, copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { KeyPair, TestPki } from './certificates.js'
import { sparePort } from './process.js'

const run = promisify(execFile)

/** A private TLS PostgreSQL: where it listens, its password, and how to change or stop it. */
export interface TlsPostgres {
  /** Loopback port. */
  readonly port: number
  /** `postgres://postgres:<password>@127.0.0.1:<port>/postgres` (add TLS settings to use it). */
  readonly url: string
  /** The `postgres` user's password. */
  readonly password: string
  /** Presents `certificate` from now on (the files are replaced and the server reloads them). */
  useCertificate(certificate: KeyPair): Promise<void>
  /** Stops the server and deletes its directory. */
  dispose(): Promise<void>
}

/** Where `initdb` and `pg_ctl` live (the newest installed server), or undefined. */
export function postgresBinaries(): string | undefined {
  const base = '/usr/lib/postgresql'
  if (!existsSync(base)) return undefined
  const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a))
  return versions.map((v) => join(base, v, 'bin')).find((dir) => existsSync(join(dir, 'initdb')))
}

/**
 * initdb into a temporary folder and start PostgreSQL on a spare loopback port with `ssl = on`,
 * presenting the PKI's server certificate; `pg_hba.conf` takes `hostssl` with SCRAM-SHA-256 and
 * rejects every connection without TLS.
 * @throws {Error} when the server binaries are missing or it does not start.
 */
export async function startTlsPostgres(
  pki: TestPki,
  options: { password?: string } = {},
): Promise<TlsPostgres> {
  const bin = postgresBinaries()
  if (bin === undefined) {
    throw new Error(
      'PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql',
    )
  }
  const password = options.password ?? 'postgres-tls-secret'
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-pg-tls-'))
  const asRoot = process.getuid?.() === 0
  const owner = asRoot
    ? {
        uid: Number((await run('id', ['-u', 'postgres'])).stdout.trim()),
        gid: Number((await run('id', ['-g', 'postgres'])).stdout.trim()),
      }
    : undefined
  const own = async (path: string) => {
    if (owner !== undefined) await chown(path, owner.uid, owner.gid)
  }
  const as = (cmd: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { timeout: 90_000 })
      : run(join(bin, cmd), args, { timeout: 90_000 })
  const data = join(dir, 'data')
  const port = await sparePort()
  const useCertificate = async (certificate: KeyPair) => {
    // The server wants its key readable by its own user only.
    for (const [from, to] of [
      [certificate.certFile, 'server.crt'],
      [certificate.keyFile, 'server.key'],
    ] as const) {
      await copyFile(from, join(dir, to))
      await own(join(dir, to))
      await chmod(join(dir, to), 0o600)
    }
  }
  try {
    await own(dir)
    await writeFile(join(dir, 'pw'), password)
    await own(join(dir, 'pw'))
    await as(
      'initdb',
      ['-D', data, '-U', 'postgres', '--auth=scram-sha-256', '--pwfile', join(dir, 'pw')].concat([
        '-E',
        'UTF8',
        '--no-sync',
      ]),
    )
    await useCertificate(pki.server)
    await writeFile(
      join(data, 'pg_hba.conf'),
      'hostssl all all 127.0.0.1/32 scram-sha-256\nhostnossl all all 127.0.0.1/32 reject\n',
    )
    const settings = [
      `listen_addresses = '127.0.0.1'`,
      `port = ${port}`,
      `unix_socket_directories = '${dir}'`,
      'fsync = off',
      'ssl = on',
      `ssl_cert_file = '${join(dir, 'server.crt')}'`,
      `ssl_key_file = '${join(dir, 'server.key')}'`,
    ]
    await writeFile(join(data, 'postgresql.auto.conf'), `${settings.join('\n')}\n`)
    await own(join(data, 'pg_hba.conf'))
    await own(join(data, 'postgresql.auto.conf'))
    await as('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', 'start'])
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
  const ctl = (...args: string[]) => as('pg_ctl', ['-D', data, ...args])
  return {
    port,
    password,
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    async useCertificate(certificate) {
      await useCertificate(certificate)
      await ctl('reload')
    },
    async dispose() {
      await ctl('-m', 'immediate', '-w', 'stop').catch(() => undefined)
      await rm(dir, { recursive: true, force: true })
    },
  }
}
