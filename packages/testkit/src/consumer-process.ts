import { spawn } from 'node:child_process'
import { dirname } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

import { CONSUMER_SPEC_ENV, type ConsumerSpec } from './consumer-protocol.js'

/** A consumer running in a child process, and what it reported so far. */
export interface ConsumerProcess {
  /** Resolves once the process has subscribed; rejects if it exits first. */
  readonly ready: Promise<void>
  /** Ids of the events whose handler started. */
  readonly started: ReadonlySet<string>
  /** Ids of the events whose handler finished. */
  readonly finished: ReadonlySet<string>
  /** Kills the process with SIGKILL, the way a crashed service dies; resolves once it is gone. */
  kill(): Promise<void>
}

/** How to run a consumer script. */
export interface ConsumerProcessOptions {
  /** Arguments after the script (broker address, key prefix, timings). */
  args?: readonly string[]
  /** Node options before the script, e.g. a loader for TypeScript sources. @default [] */
  execArgv?: readonly string[]
  /** Extra environment variables. */
  env?: Record<string, string>
  /** Working directory, where `execArgv` imports resolve from. @default the script's folder */
  cwd?: string
}

/**
 * Starts `script` in a child process as one member of `spec.group`: the parent half of the
 * killed-consumer scenario's protocol. The script reads the spec from `SWITCHYARD_CONSUMER`,
 * subscribes, and writes one JSON object a line on stdout: `{"ready":true}` once subscribed,
 * then `{"started":id}` and `{"finished":id}` per event. The first `finishFirst` events finish;
 * every later handler never returns, so a kill lands mid-handler.
 * @example
 * spawnConsumer: (spec) =>
 *   startConsumerProcess(new URL('./fixtures/consumer.js', import.meta.url), spec, { args: [url] })
 */
export function startConsumerProcess(
  script: string | URL,
  spec: ConsumerSpec,
  options: ConsumerProcessOptions = {},
): ConsumerProcess {
  const path = typeof script === 'string' ? script : fileURLToPath(script)
  const child = spawn(
    process.execPath,
    [...(options.execArgv ?? []), path, ...(options.args ?? [])],
    {
      cwd: options.cwd ?? dirname(path),
      env: { ...process.env, ...options.env, [CONSUMER_SPEC_ENV]: JSON.stringify(spec) },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const started = new Set<string>()
  const finished = new Set<string>()
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve())
    child.once('error', () => resolve())
  })
  const ready = new Promise<void>((resolve, reject) => {
    child.once('error', reject)
    void exited.then(() => reject(new Error(`consumer process ${path} exited before it was ready`)))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let report: { ready?: boolean; started?: string; finished?: string }
      try {
        report = JSON.parse(line) as typeof report
      } catch {
        return // Not the protocol: a stray log line.
      }
      if (report.ready === true) resolve()
      if (report.started !== undefined) started.add(report.started)
      if (report.finished !== undefined) finished.add(report.finished)
    })
  })
  // Nobody may be waiting on `ready` when the process dies after a kill.
  void ready.catch(() => undefined)
  return {
    ready,
    started,
    finished,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
  }
}
