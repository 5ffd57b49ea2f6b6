import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serviceOrSkip, sparePort, waitUntil } from '@switchyard/testkit'
import { Redis } from 'ioredis'

/** The shared server the tests use. */
export const REDIS_URL = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A key prefix no other test run uses, so parallel files never see each other's keys. */
export function uniquePrefix(label: string): string {
  return `sy-test-${label}-${Math.random().toString(36).slice(2, 10)}`
}

/** Probes a server with PING; resolves when it answers, rejects with the connection error. */
export async function ping(url: string): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  let cause: Error | undefined
  client.on('error', (error: Error) => {
    cause ??= error
  })
  try {
    await client.connect()
    await client.ping()
  } catch (error) {
    // "Connection is closed" says less than the socket error behind it (ECONNREFUSED ...).
    throw cause ?? error
  } finally {
    client.disconnect()
  }
}

/** Skip reason for the shared server (undefined when it answers; throws under CI). */
export function redisOrSkip(url = REDIS_URL): Promise<string | undefined> {
  return serviceOrSkip('Redis', () => ping(url))
}

/** Deletes every key under `{prefix:`. */
export async function deleteKeys(url: string, prefix: string): Promise<number> {
  const client = new Redis(url)
  client.on('error', () => undefined)
  let deleted = 0
  try {
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `{${prefix}:*`, 'COUNT', 1_000)
      cursor = next
      if (keys.length > 0) deleted += await client.unlink(...keys)
    } while (cursor !== '0')
  } finally {
    client.disconnect()
  }
  return deleted
}

/** True when a `redis-server` binary is on the PATH (private servers for fault tests). */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0
}

/**
 * A private `redis-server` on a spare loopback port with append-only persistence, in a temp
 * directory: fault tests stop and start it without touching the shared server.
 */
export class PrivateRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'sy-redis-'))
  private child: ChildProcess | undefined
  private constructor(
    readonly port: number,
    /** A password the server demands (`--requirepass`), if any. */
    readonly password?: string,
  ) {}

  /** Starts a server on a spare port (demanding `password` when given) and waits until it answers. */
  static async start(password?: string): Promise<PrivateRedis> {
    const server = await PrivateRedis.reserve(password)
    await server.up()
    return server
  }

  /** A spare port and data directory, no server yet: `up()` starts it. */
  static async reserve(password?: string): Promise<PrivateRedis> {
    return new PrivateRedis(await sparePort(), password)
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** The URL with a password in it. */
  urlWith(password: string): string {
    return `redis://:${encodeURIComponent(password)}@127.0.0.1:${this.port}`
  }

  /** Starts the server on the same port and data directory. */
  async up(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
    ]
    args.push(
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    )
    if (this.password !== undefined) args.push('--requirepass', this.password)
    const child = spawn('redis-server', args, { stdio: 'ignore' })
    this.child = child
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`)
        const url = this.password === undefined ? this.url : this.urlWith(this.password)
        return ping(url).then(
          () => true,
          () => false,
        )
      },
      { timeoutMs: 10_000, intervalMs: 20, message: `redis-server on port ${this.port}` },
    )
  }

  /** Stops the server the graceful way (SIGTERM: it flushes the append-only file first). */
  async down(): Promise<void> {
    const child = this.child
    this.child = undefined
    if (child === undefined || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }

  /** Stops and starts the server, keeping its data. */
  async restart(): Promise<void> {
    await this.down()
    await this.up()
  }

  /** Stops the server and removes its data directory. */
  async destroy(): Promise<void> {
    await this.down()
    rmSync(this.dir, { recursive: true, force: true })
  }
}
