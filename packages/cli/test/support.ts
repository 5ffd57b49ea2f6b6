import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitUntil } from '@switchyard/testkit'
import { afterAll, beforeAll } from 'vitest'

/** The built bin, as `npx switchyard` runs it (CI builds before testing). */
export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
const SOURCES = fileURLToPath(new URL('../src', import.meta.url))

export const REDIS_URL = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379'
export const NATS_URL = process.env.SWITCHYARD_NATS_URL ?? 'nats://127.0.0.1:4222'
export const KAFKA_BROKERS = process.env.SWITCHYARD_KAFKA_BROKERS ?? '127.0.0.1:9092'
export const DATABASE_URL =
  process.env.SWITCHYARD_POSTGRES_URL ??
  process.env.DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/switchyard'

/** Fails the file at once when dist/bin.js is missing or older than the sources. */
export function requireBuiltBin(): void {
  beforeAll(() => {
    const built = existsSync(BIN) ? statSync(BIN).mtimeMs : 0
    const newest = readdirSync(SOURCES, { recursive: true, withFileTypes: true })
      .filter((f) => f.isFile() && f.name.endsWith('.ts') && !f.name.endsWith('.test.ts'))
      .reduce((max, f) => Math.max(max, statSync(join(f.parentPath, f.name)).mtimeMs), 0)
    if (built < newest)
      throw new Error(
        'dist/bin.js is missing or older than src: run pnpm --filter @switchyard/cli build',
      )
  })
}

/** Only what any shell has: no broker, database or token variable reaches the bin by accident. */
const BARE = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' }

/** What a finished run of the bin printed, and its exit code. */
export interface BinResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs the bin to its end with `args`, `env` and optional stdin. */
export function runBin(
  args: readonly string[],
  options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): Promise<BinResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      {
        env: { ...BARE, ...options.env },
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 64 << 20,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1
        if (error?.killed) reject(new Error(`bin timed out: ${args.join(' ')}\n${stderr}`))
        else resolve({ code, stdout, stderr })
      },
    )
    child.stdin!.end(options.input ?? '')
  })
}

/** A bin left running (`tail`), with its output so far. */
export interface RunningBin {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  /** Resolves with the exit code. */
  exited: Promise<number | null>
}

const running: ChildProcess[] = []
afterAll(() => {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL')
})

/** Starts the bin and returns at once; the file's afterAll kills it if it is still running. */
export function startBin(args: readonly string[], env: Record<string, string> = {}): RunningBin {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...BARE, ...env } })
  running.push(child)
  let out = ''
  let err = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString()
  })
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  return { child, stdout: () => out, stderr: () => err, exited }
}

/** Waits for `text` in a running bin's stderr. */
export function waitForStderr(bin: RunningBin, text: string, timeoutMs = 60_000): Promise<void> {
  return waitUntil(() => bin.stderr().includes(text), {
    timeoutMs,
    intervalMs: 50,
    message: `"${text}" on the bin's stderr`,
    describe: () => bin.stderr(),
  })
}

/** A name no other run uses. */
export function unique(label: string): string {
  return `cli.${label}.${Math.random().toString(36).slice(2, 8)}`
}

/** The bad-input contract: exactly one stderr line, no stack trace, the expected exit code. */
export function oneLineError(result: BinResult): string {
  const lines = result.stderr.trimEnd().split('\n')
  if (lines.length !== 1 || !lines[0]!.startsWith('switchyard: ') || /\n\s+at /.test(result.stderr))
    throw new Error(`expected one error line, got: ${JSON.stringify(result.stderr)}`)
  return lines[0]!
}

/** Resolves when Redis answers PING. */
export async function probeRedis(): Promise<void> {
  const { Redis } = await import('ioredis')
  const client = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.ping()
  } finally {
    client.disconnect()
  }
}

/** Resolves when NATS answers with JetStream on. */
export async function probeNats(): Promise<void> {
  const { connect } = await import('@nats-io/transport-node')
  const { jetstreamManager } = await import('@nats-io/jetstream')
  const nc = await connect({ servers: NATS_URL, timeout: 2_000, reconnect: false })
  try {
    await jetstreamManager(nc)
  } finally {
    await nc.close()
  }
}

/** Resolves when a Kafka broker answers a metadata request. */
export async function probeKafka(): Promise<void> {
  const { Kafka, logLevel } = await import('kafkajs')
  const admin = new Kafka({ brokers: KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  await admin.disconnect()
}
