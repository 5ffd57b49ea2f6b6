import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

/** What the test does with a fenced block, chosen by the first word of its info string. */
export type BlockKind = 'ts' | 'js' | 'json' | 'yaml' | 'shell' | 'text'

/** The info-string languages and what each one gets; see README.md. */
export const LANGUAGES: Readonly<Record<string, BlockKind>> = {
  ts: 'ts',
  typescript: 'ts',
  mts: 'ts',
  js: 'js',
  javascript: 'js',
  mjs: 'js',
  json: 'json',
  yaml: 'yaml',
  yml: 'yaml',
  sh: 'shell',
  bash: 'shell',
  shell: 'shell',
  '': 'text',
  text: 'text',
  txt: 'text',
  console: 'text',
  dockerfile: 'text',
  sql: 'text',
  diff: 'text',
  http: 'text',
  md: 'text',
  markdown: 'text',
}

/** One fenced code block of a README. */
export interface Block {
  /** The README, relative to the repository root (`packages/core/README.md`). */
  readme: string
  /** 1-based position among the README's fenced blocks. */
  index: number
  /** 1-based line of the opening fence. */
  line: number
  /** The info string's first word, lower-cased (`''` when there is none). */
  lang: string
  /** The info string's further words (`vitest` in ```` ```ts vitest ````). */
  flags: string[]
  /** What the test does with it; `undefined` for a language the rules do not know. */
  kind: BlockKind | undefined
  code: string
  /** Why the block is not checked, from a `<!-- readme-examples: skip (reason) -->` before it. */
  skip: string | undefined
}

const SKIPPED_DIRS = new Set(['node_modules', '.cache', 'dist', '.git', '.turbo', 'coverage'])
const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)([^`]*)$/
const SKIP = /^<!--\s*readme-examples:\s*skip\s*\((.+)\)\s*-->$/
const MARKER = /<!--\s*readme-examples/

/** Every README.md under `root` (node_modules, .cache, dist and .git aside), sorted. */
export function findReadmes(root: string): string[] {
  const found: string[] = []
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) walk(join(dir, entry.name))
      } else if (entry.name === 'README.md') {
        found.push(relative(root, join(dir, entry.name)))
      }
    }
  }
  walk(root)
  return found.sort((a, b) => depth(a) - depth(b) || a.localeCompare(b))
}

function depth(path: string): number {
  return path.split('/').length
}

/**
 * The fenced code blocks of a Markdown text. A block inside a list keeps its content without the
 * fence's indentation. A `<!-- readme-examples: ... -->` comment that is not a well-formed skip
 * marker right before a fence throws, so a typo cannot silently run (or skip) a block.
 */
export function extractBlocks(readme: string, text: string): Block[] {
  const lines = text.split('\n')
  const blocks: Block[] = []
  let pendingSkip: { reason: string; line: number } | undefined
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const trimmed = line.trim()
    if (MARKER.test(trimmed)) {
      const match = SKIP.exec(trimmed)
      if (!match)
        throw new Error(
          `${readme}:${i + 1}: malformed marker, want <!-- readme-examples: skip (reason) -->`,
        )
      pendingSkip = { reason: match[1]!.trim(), line: i + 1 }
      continue
    }
    const open = FENCE.exec(line)
    if (!open) {
      if (trimmed !== '' && pendingSkip) {
        throw new Error(
          `${readme}:${pendingSkip.line}: a skip marker must come right before a code block`,
        )
      }
      continue
    }
    const indent = open[1]!.length
    const fence = open[2]!
    const lang = open[3]!.toLowerCase()
    const body: string[] = []
    let j = i + 1
    for (; j < lines.length; j++) {
      const closing = lines[j]!.trim()
      if (closing.startsWith(fence[0]!.repeat(fence.length)) && /^(`+|~+)$/.test(closing)) break
      body.push(lines[j]!.slice(Math.min(indent, leadingSpaces(lines[j]!))))
    }
    if (j === lines.length) throw new Error(`${readme}:${i + 1}: code block is never closed`)
    blocks.push({
      readme,
      index: blocks.length + 1,
      line: i + 1,
      lang,
      flags: open[4]!.trim().split(/\s+/).filter(Boolean),
      kind: LANGUAGES[lang],
      code: `${body.join('\n')}\n`,
      skip: pendingSkip?.reason,
    })
    pendingSkip = undefined
    i = j
  }
  if (pendingSkip)
    throw new Error(
      `${readme}:${pendingSkip.line}: a skip marker must come right before a code block`,
    )
  return blocks
}

function leadingSpaces(line: string): number {
  return line.length - line.trimStart().length
}

/** Every block of every README under `root`. */
export function allBlocks(root: string): Block[] {
  return findReadmes(root).flatMap((readme) =>
    extractBlocks(readme, readFileSync(join(root, readme), 'utf8')),
  )
}

/** How a test names a block: `packages/core/README.md block 3 (ts, line 120)`. */
export function blockName(block: Block): string {
  const info = [block.lang || 'no language', ...block.flags].join(' ')
  return `${block.readme} block ${block.index} (${info}, line ${block.line})`
}
