import Table from 'cli-table3'
import pc from 'picocolors'

type Colors = ReturnType<typeof pc.createColors>

/** Where a command writes, and how: tables and colours only when stdout is a terminal. */
export interface Io {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
  /** stdout is a terminal: tables and colours. Otherwise plain tab-separated lines. */
  readonly tty: boolean
  /** stderr is a terminal: progress bars. */
  readonly stderrTty: boolean
  /** `--json`: one JSON document (or one per line for `tail`) on stdout, nothing else there. */
  readonly json: boolean
  readonly colors: Colors
  readonly env: NodeJS.ProcessEnv
  /** Ctrl-C: commands that run until stopped (`tail`) listen to it. */
  readonly signal: AbortSignal
}

/** Builds the `Io` of a run; `NO_COLOR` turns colours off, `FORCE_COLOR` on. */
export function createIo(options: {
  stdout: NodeJS.WritableStream & { isTTY?: boolean }
  stderr: NodeJS.WritableStream & { isTTY?: boolean }
  env: NodeJS.ProcessEnv
  json: boolean
  signal: AbortSignal
}): Io {
  const tty = options.stdout.isTTY === true
  const forced = options.env.FORCE_COLOR !== undefined && options.env.FORCE_COLOR !== '0'
  const color = forced || (tty && options.env.NO_COLOR === undefined && !options.json)
  return {
    stdout: options.stdout,
    stderr: options.stderr,
    tty,
    stderrTty: options.stderr.isTTY === true,
    json: options.json,
    colors: pc.createColors(color),
    env: options.env,
    signal: options.signal,
  }
}

/** Writes a line on stdout. */
export function line(io: Io, text = ''): void {
  io.stdout.write(`${text}\n`)
}

/** Writes a note on stderr (progress, what a command is doing): never mixed into stdout data. */
export function note(io: Io, text: string): void {
  io.stderr.write(`${text}\n`)
}

/** Writes a value as pretty JSON on stdout (`--json`). */
export function printJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

const NO_RULES = Object.fromEntries(
  ['top', 'top-mid', 'top-left', 'top-right', 'bottom', 'bottom-mid', 'bottom-left']
    .concat(['bottom-right', 'left', 'left-mid', 'mid', 'mid-mid', 'right', 'right-mid', 'middle'])
    .map((name) => [name, '']),
)

/** A cell: text, or nothing (shown as `-`). */
export type Cell = string | number | null | undefined

/**
 * Prints rows under a header: a boxed table on a terminal, tab-separated lines (header first)
 * otherwise, so `cut` and `awk` can read them.
 */
export function printTable(io: Io, head: readonly string[], rows: readonly Cell[][]): void {
  const text = (c: Cell) => (c === null || c === undefined ? '-' : String(c))
  if (!io.tty) {
    line(io, head.join('\t'))
    for (const row of rows) line(io, row.map(text).join('\t'))
    return
  }
  const table = new Table({
    head: head.map((h) => io.colors.bold(h)),
    // Columns without rules, as kubectl and gh print them: easy to read and to copy from.
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 2 },
    chars: NO_RULES,
  })
  for (const row of rows) table.push(row.map(text))
  line(
    io,
    table
      .toString()
      .split('\n')
      .map((l) => l.trimEnd())
      .join('\n'),
  )
}

/** Milliseconds as a short age: `850 ms`, `12.4 s`, `3 min`, `2.5 h`. */
export function age(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined) return null
  if (ms < 1_000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`
  return `${(ms / 3_600_000).toFixed(1)} h`
}

/** A long text cut to `max` characters with an ellipsis. */
export function excerpt(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}
