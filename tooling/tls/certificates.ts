// A throwaway certificate authority for TLS tests, made with the `openssl` command at test time
// in a temporary directory: nothing secret is committed, and every run has keys of its own.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** A certificate and its private key, as files and as PEM text. */
export interface KeyPair {
  /** Path of the PEM certificate. */
  readonly certFile: string
  /** Path of the PEM private key (PKCS#8, unencrypted). */
  readonly keyFile: string
  /** The certificate's PEM text. */
  readonly cert: string
  /** The key's PEM text. */
  readonly key: string
}

/** What a TLS test needs: a CA, a server certificate it signed, and the ways to get it wrong. */
export interface TestPki {
  /** The temporary directory holding every file. */
  readonly dir: string
  /** The CA clients trust; it signed `server`, `expired` and `client`. */
  readonly ca: KeyPair
  /** A second CA that signed nothing the servers present: trusting it alone is the wrong CA. */
  readonly otherCa: KeyPair
  /** Server certificate for `localhost` and `127.0.0.1`, valid for two days from now. */
  readonly server: KeyPair
  /** The same names, signed by `ca`, but valid only in January 2020: expired. */
  readonly expired: KeyPair
  /** A client certificate signed by `ca` (for servers that ask for one). */
  readonly client: KeyPair
  /** Deletes the directory. */
  dispose(): Promise<void>
}

/** Runs `openssl` with `args`; a failure names the command and what openssl printed. */
async function openssl(args: readonly string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd, timeout: 30_000 })
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr?.trim() ?? (error as Error).message
    throw new Error(`openssl ${args[0]} failed: ${detail}`, { cause: error })
  }
}

// `openssl ca` is the one OpenSSL 3.0 command that can sign with a start and end date in the
// past; it wants a database and a config of its own.
function caConfig(dir: string): string {
  return `[ ca ]
default_ca = test_ca
[ test_ca ]
database = ${dir}/index.txt
new_certs_dir = ${dir}
serial = ${dir}/serial
default_md = sha256
policy = any_name
unique_subject = no
copy_extensions = none
[ any_name ]
commonName = supplied
[ server_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
[ client_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
`
}

async function pair(dir: string, name: string): Promise<KeyPair> {
  const certFile = join(dir, `${name}.crt`)
  const keyFile = join(dir, `${name}.key`)
  const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')])
  return { certFile, keyFile, cert, key }
}

async function selfSignedCa(dir: string, name: string): Promise<KeyPair> {
  await openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-sha256',
      '-days',
      '2',
    ]
      .concat(['-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/CN=switchyard ${name}`])
      .concat(['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=keyCertSign']),
    dir,
  )
  return pair(dir, name)
}

async function signed(
  dir: string,
  name: string,
  options: { extensions: string; startDate: string; endDate: string; subject: string },
): Promise<KeyPair> {
  await openssl(
    [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    ].concat(['-subj', `/CN=${options.subject}`]),
    dir,
  )
  await openssl(
    ['ca', '-batch', '-notext', '-config', 'ca.cnf', '-cert', 'ca.crt', '-keyfile', 'ca.key']
      .concat(['-in', `${name}.csr`, '-out', `${name}.crt`, '-extensions', options.extensions])
      .concat(['-startdate', options.startDate, '-enddate', options.endDate]),
    dir,
  )
  return pair(dir, name)
}

/** `YYYYMMDDHHMMSSZ`, the form `openssl ca` takes dates in. */
function asn1Time(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`
}

/**
 * Makes a fresh CA, a second unrelated CA, a valid and an expired server certificate, and a client
 * certificate, in a new temporary directory (five P-256 keys: well under a second).
 * @throws {Error} when `openssl` is missing or refuses.
 */
export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-tls-'))
  try {
    await writeFile(join(dir, 'ca.cnf'), caConfig(dir))
    await writeFile(join(dir, 'index.txt'), '')
    await writeFile(join(dir, 'serial'), '1000\n')
    const [ca, otherCa] = await Promise.all([
      selfSignedCa(dir, 'ca'),
      selfSignedCa(dir, 'other-ca'),
    ])
    const now = Date.now()
    const valid = {
      startDate: asn1Time(new Date(now - 3_600_000)),
      endDate: asn1Time(new Date(now + 2 * 86_400_000)),
    }
    // One at a time: `openssl ca` appends to one database and serial file.
    const server = await signed(dir, 'server', {
      ...valid,
      extensions: 'server_ext',
      subject: 'localhost',
    })
    const expired = await signed(dir, 'expired', {
      startDate: '20200101000000Z',
      endDate: '20200131000000Z',
      extensions: 'server_ext',
      subject: 'localhost',
    })
    const client = await signed(dir, 'client', {
      ...valid,
      extensions: 'client_ext',
      subject: 'switchyard-test-client',
    })
    return {
      dir,
      ca,
      otherCa,
      server,
      expired,
      client,
      dispose: () => rm(dir, { recursive: true, force: true }),
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
}
