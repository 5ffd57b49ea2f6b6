import { describe, expect, it } from 'vitest'
import { extractBlocks } from '../src/readmes.js'
import { packageImports, run } from '../src/sandbox.js'
import { servicesOf } from '../src/services.js'

describe('readme-examples tool', () => {
  it('tool - extracts each fenced block with its language, flags, line and skip reason', () => {
    const text = [
      '# Title',
      '```ts',
      "console.log('a')",
      '```',
      '',
      '<!-- readme-examples: skip (needs a (real) cluster) -->',
      '',
      '```sh vitest',
      'echo b',
      '```',
      '- a list item:',
      '  ```json',
      '  { "c": 1 }',
      '  ```',
      '````cobol',
      '```ts',
      '````',
    ].join('\n')
    const blocks = extractBlocks('x/README.md', text)
    expect(blocks.map((b) => [b.index, b.line, b.lang, b.kind, b.flags, b.skip, b.code])).toEqual([
      [1, 2, 'ts', 'ts', [], undefined, "console.log('a')\n"],
      [2, 8, 'sh', 'shell', ['vitest'], 'needs a (real) cluster', 'echo b\n'],
      [3, 12, 'json', 'json', [], undefined, '{ "c": 1 }\n'],
      [4, 15, 'cobol', undefined, [], undefined, '```ts\n'],
    ])
  })

  it('tool - refuses a malformed marker, a marker not followed by a block and an unclosed block', () => {
    expect(() => extractBlocks('r', '<!-- readme-examples: skip -->\n```ts\n```')).toThrow(
      /malformed/,
    )
    expect(() =>
      extractBlocks('r', '<!-- readme-examples: skip (x) -->\ntext\n```ts\n```'),
    ).toThrow(/right before a code block/)
    expect(() => extractBlocks('r', '```ts\nconst a = 1\n')).toThrow(/never closed/)
  })

  it('tool - finds the packages a block imports, and the services it needs', () => {
    const code = [
      "import { createEventBus } from '@switchyard/core'",
      "import { redisTransport } from '@switchyard/adapter-redis/sub'",
      "import pg from 'pg'",
      "import { setTimeout } from 'node:timers/promises'",
      "import 'fs'",
      "const z = await import('zod')",
    ].join('\n')
    expect(packageImports(code).sort()).toEqual([
      '@switchyard/adapter-redis',
      '@switchyard/core',
      'pg',
      'zod',
    ])
    expect(servicesOf(code).map((s) => s.name)).toEqual(['Redis', 'PostgreSQL'])
  })

  it('tool - a program that never exits is killed at the timeout and reported as such', async () => {
    const result = await run(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      cwd: process.cwd(),
      env: process.env,
      timeoutMs: 500,
    })
    expect(result.timedOut).toBe(true)
    expect(result.signal).toBe('SIGKILL')
  })
})
