import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { POSTGRES_URL, postgresOrSkip } from './support.js'

// Every TypeScript block of the README is a complete program: each one is written next to this
// file and imported, so an example that stops working fails here. Blocks on `pg` read
// DATABASE_URL, pointed at the test server.
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!)
const dir = new URL(`./.readme-${process.pid}/`, import.meta.url)

describe('readme', () => {
  let skip: string | undefined
  beforeAll(async () => {
    skip = await postgresOrSkip()
    mkdirSync(dir, { recursive: true })
    process.env.DATABASE_URL = POSTGRES_URL
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('readme - has the code blocks this test runs', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(6)
  })

  it.for(blocks.map((code, i) => [i + 1, code] as const))(
    'readme - code block %i runs',
    { timeout: 60_000 },
    async ([n, code], ctx) => {
      if (skip && code.includes("from 'pg'")) return ctx.skip(skip)
      const file = new URL(`block-${n}.ts`, dir)
      writeFileSync(file, code)
      const lines: string[] = []
      const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
        lines.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '))
      })
      try {
        await import(/* @vite-ignore */ file.href)
      } finally {
        log.mockRestore()
      }
      if (process.env.SHOW_README_OUTPUT) console.log(lines.join('\n'))
      expect(lines.length).toBeGreaterThan(0)
    },
  )
})
