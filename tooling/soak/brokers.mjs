// Private brokers for the soak, on spare loopback ports with their own data directories, so a
// restart never touches the shared services. Small versions of the adapters' test helpers
// (packages/adapter-redis/test/helpers.ts `PrivateRedis`, adapter-nats/test/nats-server.ts
// `PrivateServer`, adapter-kafka/test/private-broker.ts `PrivateBroker`): those are TypeScript
// test files, and `@switchyard/testkit`'s main entry (`sparePort`, `waitUntil`) loads vitest,
// which refuses to load outside a vitest run.
import { execFile, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Resolves after `ms`. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** A loopback port nothing listens on right now. */
export function sparePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** Polls `condition` until it is true; throws `message` once `timeoutMs` passes. */
export async function waitUntil(condition, { timeoutMs = 30_000, intervalMs = 50, message }) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await condition()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${message}`)
    await sleep(intervalMs)
  }
}

/** Sends `request` to 127.0.0.1:`port` and resolves true when the first reply contains `expect`. */
function answers(port, request, expect) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    const done = (ok) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1_000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => {
      if (request) socket.write(request)
    })
    socket.once('data', (data) => done(data.toString().includes(expect)))
  })
}

/** Spawns a server process and waits until `probe` answers; throws if it exits first. */
async function startProcess(command, args, probe, name) {
  const child = spawn(command, args, { stdio: 'ignore' })
  let failed
  child.once('error', (error) => {
    failed = error
  })
  try {
    await waitUntil(
      async () => {
        if (failed) throw failed
        if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`)
        return probe()
      },
      { timeoutMs: 30_000, message: `${name} to answer` },
    )
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }
  return child
}

/** Stops a server process with SIGTERM (a clean shutdown) and waits until it is gone. */
async function stopProcess(child) {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}

/** A redis-server with append-only persistence: a clean stop flushes the file, so data survives. */
class PrivateRedis {
  name = 'redis-server'
  dir = mkdtempSync(join(tmpdir(), 'sy-soak-redis-'))
  constructor(port) {
    this.port = port
    this.address = `redis://127.0.0.1:${port}`
  }
  async start() {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir]
    args.push('--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec')
    args.push('--daemonize', 'no', '--loglevel', 'warning')
    this.child = await startProcess(
      'redis-server',
      args,
      () => answers(this.port, 'PING\r\n', '+PONG'),
      this.name,
    )
  }
  async stop() {
    await stopProcess(this.child)
    this.child = undefined
  }
  async destroy() {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** A nats-server with JetStream and its own store directory. */
class PrivateNats {
  name = 'nats-server'
  dir = mkdtempSync(join(tmpdir(), 'sy-soak-nats-'))
  constructor(port) {
    this.port = port
    this.address = `nats://127.0.0.1:${port}`
  }
  async start() {
    // Debian installs it outside a normal user's PATH.
    const bin = existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server'
    const args = ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.dir]
    // The INFO line a server sends on connect says whether JetStream is on.
    this.child = await startProcess(
      bin,
      args,
      () => answers(this.port, '', '"jetstream":true'),
      this.name,
    )
  }
  async stop() {
    await stopProcess(this.child)
    this.child = undefined
  }
  async destroy() {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** A single-node Kafka started by tooling/services/kafka.sh on its own ports and data dir. */
class PrivateKafka {
  name = 'kafka'
  dir = mkdtempSync(join(tmpdir(), 'sy-soak-kafka-'))
  constructor(port, controllerPort, script) {
    this.port = port
    this.script = script
    this.address = `127.0.0.1:${port}`
    this.env = {
      ...process.env,
      KAFKA_PORT: String(port),
      KAFKA_CONTROLLER_PORT: String(controllerPort),
      KAFKA_DATA_DIR: this.dir,
      KAFKA_HEAP: '-Xms96m -Xmx384m',
    }
  }
  async start() {
    // The script returns once the broker answers a metadata request.
    await run('bash', [this.script, 'start'], { env: this.env, timeout: 120_000 })
  }
  async stop() {
    await run('bash', [this.script, 'stop'], { env: this.env, timeout: 60_000 })
  }
  async destroy() {
    await this.stop().catch(() => undefined)
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/**
 * Starts a private broker for `kind` ('redis', 'nats' or 'kafka') on spare ports; Kafka through
 * `kafkaScript` (tooling/services/kafka.sh).
 */
export async function startBroker(kind, kafkaScript) {
  const port = await sparePort()
  const broker =
    kind === 'redis'
      ? new PrivateRedis(port)
      : kind === 'nats'
        ? new PrivateNats(port)
        : new PrivateKafka(port, await sparePort(), kafkaScript)
  try {
    await broker.start()
  } catch (error) {
    await broker.destroy().catch(() => undefined)
    throw error
  }
  return broker
}
