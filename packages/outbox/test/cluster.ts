import { execFile } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { sparePort } from '@switchyard/testkit'

const run = promisify(execFile)

/** A throwaway PostgreSQL cluster on a spare port, so a test may stop it without harming others. */
export interface Cluster {
  url: string
  restart(): Promise<void>
  destroy(): Promise<void>
}

/** Where `initdb` and `pg_ctl` live, or undefined. */
export function postgresBinaries(): string | undefined {
  const base = '/usr/lib/postgresql'
  if (!existsSync(base)) return undefined
  const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a))
  return versions.map((v) => join(base, v, 'bin')).find((dir) => existsSync(join(dir, 'initdb')))
}

/**
 * initdb into a temporary folder and start on a spare loopback port. PostgreSQL refuses to run
 * as root, so under root the server runs as the `postgres` user through `runuser`.
 */
export async function startCluster(bin: string): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'outbox-pg-'))
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    const ids = await run('id', ['-u', 'postgres'])
    const gid = await run('id', ['-g', 'postgres'])
    chownSync(dir, Number(ids.stdout.trim()), Number(gid.stdout.trim()))
  }
  const as = (cmd: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args])
      : run(join(bin, cmd), args)
  const port = await sparePort()
  const data = join(dir, 'data')
  await as('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'])
  const options = `-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories=${dir} -c fsync=off`
  const ctl = (...args: string[]) =>
    as('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-o', options, '-w', '-t', '60', ...args])
  await ctl('start')
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    restart: async () => {
      await ctl('-m', 'fast', 'restart')
    },
    destroy: async () => {
      await ctl('-m', 'immediate', 'stop').catch(() => undefined)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
