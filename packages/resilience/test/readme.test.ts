import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { afterAll, describe, expect, it, vi } from 'vitest'

// Every TypeScript block of the README is a complete program: each one is written next to this
// file and imported, so a quick start that stops working fails here.
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!)
const dir = new URL(`./.readme-${process.pid}/`, import.meta.url)
mkdirSync(dir, { recursive: true })
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('readme', () => {
  it('readme - has the code blocks this test runs', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5)
  })

  it.each(blocks.map((code, i) => [i + 1, code] as const))(
    'readme - code block %i runs',
    async (n, code) => {
      const file = new URL(`block-${n}.ts`, dir)
      writeFileSync(file, code)
      const lines: string[] = []
      const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(' '))
      })
      try {
        await import(/* @vite-ignore */ file.href)
      } finally {
        log.mockRestore()
      }
      if (process.env.SHOW_README_OUTPUT) console.log(lines.join('\n'))
      expect(lines.length).toBeGreaterThan(0)
    },
    20_000,
  )
})
