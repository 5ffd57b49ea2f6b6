import { ConnectionError, type EventBus } from '@switchyard/core'
import { withTimeout } from '@switchyard/core/transport'
import { openBus, resolveTarget, type Target } from './connection.js'
import { UsageError } from './exit-codes.js'
import { createIo, type Io } from './io.js'

/** The options every command accepts (`switchyard --help`). */
export interface GlobalOptions {
  url?: string
  gateway?: string
  token?: string
  json?: boolean
  verbose?: boolean
  timeout: string
  catalog?: string[]
}

/** What a command runs with: its output, its connection target, and how long to wait for it. */
export interface Context {
  readonly io: Io
  readonly options: GlobalOptions
  readonly timeoutMs: number
  target(): Target
}

/** Streams and environment of one run (the bin passes the process's own). */
export interface RunEnvironment {
  stdout: NodeJS.WritableStream & { isTTY?: boolean }
  stderr: NodeJS.WritableStream & { isTTY?: boolean }
  env: NodeJS.ProcessEnv
  signal: AbortSignal
}

/** The context of a command from its parsed global options. */
export function createContext(options: GlobalOptions, run: RunEnvironment): Context {
  const timeoutMs = Number(options.timeout)
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new UsageError(
      `--timeout must be a number of milliseconds above 0, got "${options.timeout}"`,
    )
  const io = createIo({ ...run, json: options.json === true })
  let target: Target | undefined
  return {
    io,
    options,
    timeoutMs,
    target: () => {
      target ??= resolveTarget(options.url, run.env)
      return target
    },
  }
}

/**
 * Opens a bus on the target, connects within `--timeout`, runs `work`, and closes the bus
 * (bounded too, so a dead broker cannot hold the command).
 */
export async function withBus<T>(ctx: Context, work: (bus: EventBus) => Promise<T>): Promise<T> {
  const target = ctx.target()
  const bus = await openBus(target, ctx.options.verbose === true)
  try {
    await withTimeout(bus.connect(), ctx.timeoutMs).catch((error: unknown) => {
      const where = `${target.kind} at ${target.address}`
      // The adapters' own connection errors say what to check; add the address when they don't.
      if (error instanceof ConnectionError && error.message.includes(hostOf(target.address)))
        throw error
      const message = error instanceof ConnectionError ? error.message : undefined
      throw new ConnectionError(
        message === undefined ? `Cannot connect to ${where}` : `${where}: ${message}`,
        { cause: message === undefined ? error : undefined, retryable: false },
      )
    })
    return await work(bus)
  } finally {
    await withTimeout(bus.close({ timeoutMs: 5_000 }), 10_000).catch(() => undefined)
  }
}

function hostOf(address: string): string {
  return address.replace(/^[a-z+]+:\/\//, '').replace(/^.*@/, '')
}
