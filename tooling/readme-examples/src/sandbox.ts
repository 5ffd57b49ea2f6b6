import { spawn } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { builtinModules, createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import type { Block } from './readmes.js'

/**
 * A folder inside the workspace where the blocks are written, with a `node_modules` of links:
 * `@switchyard/<name>` to the workspace package (so imports load its built `dist` through its
 * `exports`, as an installed copy would), any other package a block imports to the copy a
 * workspace package already installed (the same copy the Switchyard packages load, so there is
 * one `ioredis`, one `pg`), and its `@types` package when there is one.
 */
export class Sandbox {
  readonly dir: string
  /** A vitest config for the blocks that are test files. */
  readonly vitestConfig: string
  private readonly candidates: string[]
  private readonly workspace = new Map<string, string>()

  constructor(
    readonly root: string,
    name: string,
  ) {
    this.dir = join(root, 'node_modules', '.cache', 'readme-examples', name)
    rmSync(this.dir, { recursive: true, force: true })
    mkdirSync(join(this.dir, 'node_modules'), { recursive: true })
    writeFileSync(join(this.dir, 'package.json'), '{ "private": true, "type": "module" }\n')
    // Blocks that are test files run under vitest with this config, not the repository's.
    this.vitestConfig = join(this.dir, 'vitest.config.mjs')
    writeFileSync(
      this.vitestConfig,
      'export default { test: { include: ["*.test.mts", "*.test.mjs"] } }\n',
    )
    this.candidates = [root]
    for (const parent of ['packages', 'apps', 'tooling']) {
      const base = join(root, parent)
      if (!existsSync(base)) continue
      for (const entry of readdirSync(base).sort()) {
        const dir = join(base, entry)
        const manifest = join(dir, 'package.json')
        if (!existsSync(manifest)) continue
        this.candidates.push(dir)
        const { name: pkg } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }
        if (pkg) this.workspace.set(pkg, dir)
      }
    }
  }

  /** Links every package the blocks import (and `@types/node`) into the sandbox. */
  linkImports(blocks: readonly Block[]): void {
    const names = new Set<string>(['@types/node'])
    for (const block of blocks) for (const name of packageImports(block.code)) names.add(name)
    for (const name of [...names]) {
      if (!name.startsWith('@types/')) names.add(typesPackage(name))
    }
    for (const name of names) {
      const target = this.workspace.get(name) ?? this.find(name)
      if (!target) continue
      const link = join(this.dir, 'node_modules', name)
      mkdirSync(dirname(link), { recursive: true })
      symlinkSync(target, link, 'dir')
    }
  }

  private find(name: string): string | undefined {
    for (const dir of this.candidates) {
      const path = join(dir, 'node_modules', name)
      if (existsSync(join(path, 'package.json'))) return realpathSync(path)
    }
    return undefined
  }

  /** Writes a file of the sandbox and returns its absolute path. */
  write(file: string, text: string): string {
    const path = join(this.dir, file)
    writeFileSync(path, text)
    return path
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm
const BUILTIN = new Set(builtinModules)

/** The package names a block imports (`@scope/name` or `name`), Node's own modules aside. */
export function packageImports(code: string): string[] {
  const names = new Set<string>()
  for (const match of code.matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2] ?? match[3]!
    if (specifier.startsWith('.') || specifier.startsWith('node:') || specifier.startsWith('/'))
      continue
    const parts = specifier.split('/')
    const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
    if (!BUILTIN.has(name)) names.add(name)
  }
  return [...names]
}

function typesPackage(name: string): string {
  return `@types/${name.startsWith('@') ? name.slice(1).replace('/', '__') : name}`
}

/** A diagnostic of `tsc`, with its position in the compiled file. */
export interface Diagnostic {
  file: string
  line: number
  column: number
  message: string
}

/**
 * Typechecks the files in one `tsc` run with the settings a user's strict ESM project would have,
 * emitting each `.mts` as `.mjs` beside it. Answers the diagnostics per file.
 */
export async function typecheck(root: string, files: readonly string[]): Promise<Diagnostic[]> {
  if (files.length === 0) return []
  const tsc = join(
    dirname(createRequire(join(root, 'package.json')).resolve('typescript/package.json')),
    'bin',
    'tsc',
  )
  const args = [
    tsc,
    '--strict',
    '--module',
    'nodenext',
    '--moduleResolution',
    'nodenext',
    '--target',
    'es2022',
    '--skipLibCheck',
    '--pretty',
    'false',
    ...files,
  ]
  const cwd = dirname(files[0]!)
  const { output } = await run(process.execPath, args, {
    cwd,
    env: process.env,
    timeoutMs: 300_000,
  })
  const diagnostics: Diagnostic[] = []
  let last: Diagnostic | undefined
  for (const line of output.split('\n')) {
    const match = /^(.+?)\((\d+),(\d+)\): (error .*)$/.exec(line)
    if (match) {
      last = {
        file: resolve(cwd, match[1]!),
        line: Number(match[2]),
        column: Number(match[3]),
        message: match[4]!,
      }
      diagnostics.push(last)
    } else if (last && line.startsWith(' ')) {
      last.message += `\n${line}`
    } else if (line.trim() !== '') {
      last = undefined
      diagnostics.push({ file: '', line: 0, column: 0, message: line })
    }
  }
  return diagnostics
}

/** What a child process did. */
export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  timedOut: boolean
  output: string
  ms: number
}

/** Runs a command, stdout and stderr interleaved, killing it (SIGKILL) after `timeoutMs`. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<RunResult> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    const append = (chunk: Buffer): void => {
      if (output.length < 200_000) output += chunk.toString('utf8')
    }
    child.stdout.on('data', append)
    child.stderr.on('data', append)
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, options.timeoutMs)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, timedOut, output, ms: Date.now() - started })
    })
  })
}

/** Lets at most `size` callers hold it at once. */
export class Pool {
  private active = 0
  private readonly waiting: (() => void)[] = []

  constructor(private readonly size: number) {}

  async use<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve))
    else this.active++
    try {
      return await fn()
    } finally {
      const next = this.waiting.shift()
      if (next) next()
      else this.active--
    }
  }
}
