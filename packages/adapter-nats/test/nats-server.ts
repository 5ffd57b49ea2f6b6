import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { sparePort, waitUntil } from '@switchyard/testkit'

/** The shared server the tests use, from `SWITCHYARD_NATS_URL`. */
export const NATS_URL = process.env.SWITCHYARD_NATS_URL ?? 'nats://127.0.0.1:4222'

/** A unique stream prefix per test file run, so parallel files never share a stream. */
export function runPrefix(label: string): string {
  return `SYT_${label}_${Math.random().toString(36).slice(2, 8)}_`
}

/** Credentials a probe passes along. */
export interface ProbeAuth {
  token?: string
  user?: string
  pass?: string
}

/** Resolves when a JetStream-enabled server answers at `url`; rejects otherwise. */
export async function probe(url: string, auth: ProbeAuth = {}): Promise<void> {
  const nc = await connect({ servers: url, timeout: 2_000, reconnect: false, ...auth })
  try {
    await jetstreamManager(nc)
  } finally {
    await nc.close()
  }
}

/** Deletes every stream whose name starts with `prefix` (what a test run created). */
export async function deleteStreams(url: string, prefix: string): Promise<number> {
  const nc = await connect({ servers: url, timeout: 2_000, reconnect: false })
  try {
    const jsm = await jetstreamManager(nc)
    const names: string[] = []
    for await (const name of jsm.streams.names()) if (name.startsWith(prefix)) names.push(name)
    await Promise.all(names.map((name) => jsm.streams.delete(name)))
    return names.length
  } finally {
    await nc.close()
  }
}

/** Path of the nats-server binary: `NATS_SERVER_BIN`, Debian's, or the one on PATH. */
export function serverBinary(): string {
  if (process.env.NATS_SERVER_BIN) return process.env.NATS_SERVER_BIN
  return existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server'
}

/**
 * A nats-server of the test's own, on a spare loopback port with its own store directory, so
 * fault tests can stop and restart it without touching the shared one.
 */
export class PrivateServer {
  readonly url: string
  private child: ChildProcess | undefined
  private readonly dir = mkdtempSync(join(tmpdir(), 'switchyard-nats-'))

  private constructor(
    readonly port: number,
    private readonly extraArgs: readonly string[],
  ) {
    this.url = `nats://127.0.0.1:${port}`
  }

  /**
   * Starts a server on a spare port and waits until it answers. `extraArgs` go to nats-server
   * (e.g. `--auth <token>`); `auth` is what the readiness probe needs when they ask for it.
   */
  static async start(
    extraArgs: readonly string[] = [],
    auth: ProbeAuth = {},
  ): Promise<PrivateServer> {
    const server = new PrivateServer(await sparePort(), extraArgs)
    server.auth = auth
    try {
      await server.start()
    } catch (error) {
      await server.dispose()
      throw error
    }
    return server
  }

  private auth: ProbeAuth = {}

  /** Starts the process (again, keeping the store) and waits until it answers. */
  async start(): Promise<void> {
    const args = ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.dir]
    args.push(...this.extraArgs)
    const child = spawn(serverBinary(), args, { stdio: 'ignore' })
    this.child = child
    let failed: Error | undefined
    child.once('error', (error) => {
      failed = error
    })
    try {
      await waitUntil(
        async () => {
          if (failed) throw failed
          return probe(this.url, this.auth).then(
            () => true,
            () => false,
          )
        },
        { timeoutMs: 15_000, intervalMs: 50, message: `nats-server on port ${this.port}` },
      )
    } catch (error) {
      // Never leave a half-started server behind.
      child.kill('SIGKILL')
      this.child = undefined
      throw error
    }
  }

  /** Stops the process: `SIGTERM` shuts down cleanly, `SIGKILL` is a crash. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child
    if (child === undefined || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill(signal)
    await exited
    this.child = undefined
  }

  /** Stops and starts again with the same store: streams and consumers survive. */
  async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.stop(signal)
    await this.start()
  }

  /** Stops the server and removes its store. */
  async dispose(): Promise<void> {
    await this.stop('SIGKILL')
    rmSync(this.dir, { recursive: true, force: true })
  }
}
