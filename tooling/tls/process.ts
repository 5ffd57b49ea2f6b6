// Process plumbing for the private TLS brokers: spare ports, a server child process with the
// tail of its output kept for error messages, and polling with a deadline.
import { type ChildProcess, spawn } from 'node:child_process'
import { connect, createServer } from 'node:net'

/** A loopback port nothing listens on right now. */
export function sparePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        resolve(typeof address === 'object' && address !== null ? address.port : 0),
      )
    })
  })
}

/** Polls `condition` until it is true; throws naming `what` once `timeoutMs` passes. */
export async function pollUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await condition()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/**
 * Connects to 127.0.0.1:`port`, sends `request` (if any) and resolves with what the server
 * says first, or undefined when nothing answers within a second.
 */
export function firstReply(port: number, request?: Buffer | string): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    const done = (reply: Buffer | undefined) => {
      socket.destroy()
      resolve(reply)
    }
    socket.setTimeout(1_000, () => done(undefined))
    socket.once('error', () => done(undefined))
    socket.once('connect', () => {
      if (request !== undefined) socket.write(request)
    })
    socket.once('data', (data: Buffer) => done(data))
  })
}

/** A server process of a test's own; the last lines it printed explain a failed start. */
export class ServerProcess {
  private readonly child: ChildProcess
  private output = ''
  private failure: Error | undefined

  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
    options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
  ) {
    this.child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    })
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-4_000)
    }
    this.child.stdout?.on('data', keep)
    this.child.stderr?.on('data', keep)
    this.child.once('error', (error) => {
      this.failure = error
    })
  }

  /** The last few thousand characters the process printed. */
  get tail(): string {
    return this.output
  }

  /** Waits until `ready` answers true; fails at once if the process exits or cannot start. */
  async waitReady(ready: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    try {
      await pollUntil(
        async () => {
          if (this.failure !== undefined) throw this.failure
          if (this.child.exitCode !== null) {
            throw new Error(`${this.name} exited with ${this.child.exitCode}:\n${this.output}`)
          }
          return ready()
        },
        `${this.name} to answer`,
        timeoutMs,
      )
    } catch (error) {
      await this.stop()
      throw new Error(`${(error as Error).message}\n${this.output}`, { cause: error })
    }
  }

  /** Stops it (SIGTERM, then SIGKILL after `graceMs`) and waits until it is gone. */
  async stop(graceMs = 10_000): Promise<void> {
    const child = this.child
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    await exited
    clearTimeout(timer)
  }
}
