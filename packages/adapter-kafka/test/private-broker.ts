import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { sparePort } from '@switchyard/testkit'

const run = promisify(execFile)
const SCRIPT = new URL('../../../tooling/services/kafka.sh', import.meta.url).pathname

/**
 * A Kafka broker of the test's own, on spare ports with its own data dir, started by the same
 * script as the shared one. Fault tests stop and start it; the shared broker is never touched.
 */
export class PrivateBroker {
  private constructor(
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
    private readonly dataDir: string,
  ) {}

  /** `127.0.0.1:<port>`. */
  get brokers(): string {
    return `127.0.0.1:${this.port}`
  }

  /** Formats a fresh data dir and starts the broker (about 5 s). */
  static async start(): Promise<PrivateBroker> {
    const broker = await PrivateBroker.create()
    await broker.up()
    return broker
  }

  /** Picks its ports and data dir without starting it: a broker that is not there yet. */
  static async create(): Promise<PrivateBroker> {
    const port = await sparePort()
    const controller = await sparePort()
    const dataDir = await mkdtemp(join(tmpdir(), 'switchyard-kafka-'))
    const env = {
      ...process.env,
      KAFKA_PORT: String(port),
      KAFKA_CONTROLLER_PORT: String(controller),
      KAFKA_DATA_DIR: dataDir,
      KAFKA_HEAP: '-Xms96m -Xmx384m',
    }
    return new PrivateBroker(port, env, dataDir)
  }

  /** Starts it again on the same data (the script waits until it answers). */
  async up(): Promise<void> {
    await run('bash', [SCRIPT, 'start'], { env: this.env, timeout: 120_000 })
  }

  /** Stops it: `graceful` lets it shut down cleanly, otherwise it is killed (SIGKILL). */
  async down(graceful = true): Promise<void> {
    if (!graceful) {
      const pid = Number((await readFile(join(this.dataDir, 'kafka.pid'), 'utf8')).trim())
      process.kill(pid, 'SIGKILL')
      // The script's stop then only clears the pid file once the process is gone.
    }
    await run('bash', [SCRIPT, 'stop'], { env: this.env, timeout: 60_000 })
  }

  /** Stops and starts it, keeping its data. */
  async restart(graceful = true): Promise<void> {
    const t0 = Date.now()
    await this.down(graceful)
    const t1 = Date.now()
    await this.up()
    if (process.env.DBG_RESTART) console.info(`down ${t1 - t0} ms, up ${Date.now() - t1} ms`)
  }

  /** Stops it and deletes its data. */
  async destroy(): Promise<void> {
    await this.down().catch(() => undefined)
    await rm(this.dataDir, { recursive: true, force: true })
  }
}
