import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

// Every TypeScript block of the README is a complete program: each one is written next to this
// file, typechecked with the repository's strict settings, and imported, so an example that
// stops compiling or working fails here.
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!)
const dir = new URL(`./.readme-${process.pid}/`, import.meta.url)
const tsc = join(
  dirname(createRequire(import.meta.url).resolve('typescript/package.json')),
  'bin',
  'tsc',
)

describe('readme', () => {
  beforeAll(() => {
    mkdirSync(dir, { recursive: true })
    for (const [i, code] of blocks.entries()) writeFileSync(new URL(`block-${i + 1}.ts`, dir), code)
    writeFileSync(
      new URL('tsconfig.json', dir),
      JSON.stringify({ extends: '@switchyard/config/tsconfig.base.json', include: ['*.ts'] }),
    )
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('readme - has the code blocks this test runs', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5)
  })

  it('readme - every code block typechecks under the strict base config', () => {
    const project = fileURLToPath(dir)
    let output = ''
    try {
      execFileSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8', stdio: 'pipe' })
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error)
    }
    expect(output).toBe('')
  }, 60_000)

  it.each(blocks.map((_, i) => i + 1))(
    'readme - code block %i runs',
    async (n) => {
      const lines: string[] = []
      const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(' '))
      })
      try {
        await import(/* @vite-ignore */ new URL(`block-${n}.ts`, dir).href)
      } finally {
        log.mockRestore()
      }
      if (process.env.SHOW_README_OUTPUT) console.log(lines.join('\n'))
      expect(lines.length).toBeGreaterThan(0)
    },
    20_000,
  )
})
