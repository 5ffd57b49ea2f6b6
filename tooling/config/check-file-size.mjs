// No source file over 400 lines (STYLE.md rule 15): past that a module holds more than one idea,
// and an adapter that grows one is missing an abstraction in core (rule 3). Scans packages/*/src,
// apps/*/src and tooling; tests (`*.test.*`, `test/`) and benchmarks (`bench/`) are exempt, since a
// scenario table or a bench's setup reads better whole.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

const MAX_LINES = 400
const SOURCE = /\.(ts|mts|cts|mjs|cjs|js)$/
const EXEMPT = /(\.test\.[cm]?[jt]s$|(^|\/)(test|bench)\/)/
const SKIP_DIRS = new Set(['node_modules', 'dist', '.turbo', 'coverage'])

const root = new URL('../../', import.meta.url).pathname
const roots = ['tooling']
for (const parent of ['packages', 'apps']) {
  for (const dir of readdirSync(join(root, parent)).sort()) roots.push(join(parent, dir, 'src'))
}

const offenders = []
let checked = 0
for (const dir of roots) walk(join(root, dir))

function walk(dir) {
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) walk(path)
      continue
    }
    const name = relative(root, path)
    if (!SOURCE.test(entry.name) || EXEMPT.test(name)) continue
    checked++
    const text = readFileSync(path, 'utf8')
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
    if (lines > MAX_LINES) offenders.push({ name, lines })
  }
}

if (offenders.length > 0) {
  for (const { name, lines } of offenders.sort((a, b) => b.lines - a.lines)) {
    console.error(`check-file-size: ${name} has ${lines} lines (limit ${MAX_LINES})`)
  }
  console.error(`check-file-size: ${offenders.length} file(s) over ${MAX_LINES} lines; split them`)
  process.exit(1)
}
console.log(`check-file-size: ${checked} source files, none over ${MAX_LINES} lines`)
