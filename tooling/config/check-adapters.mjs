// Every adapter has the same files and the same factory name (STYLE.md rules 2 and 16), so a reader
// who knows one adapter finds their way in the next, and a new adapter copied from adapter-memory
// cannot drift. Extra files are allowed; a missing one, a missing `fromEnv` or a factory named
// otherwise fails `pnpm lint`.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const REQUIRED = [
  'index.ts',
  'options.ts',
  'transport.ts',
  'publisher.ts',
  'subscription.ts',
  'mapping.ts',
  'errors.ts',
]

const root = new URL('../../packages/', import.meta.url).pathname
const problems = []
const adapters = readdirSync(root)
  .filter((dir) => dir.startsWith('adapter-'))
  .sort()

for (const dir of adapters) {
  const src = join(root, dir, 'src')
  const name = dir.slice('adapter-'.length)
  // adapter-memory -> memoryTransport; a hyphenated name (adapter-rabbit-mq) -> rabbitMqTransport.
  const factory = `${name.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase())}Transport`

  for (const file of REQUIRED) {
    if (!existsSync(join(src, file))) problems.push(`${dir}: src/${file} is missing`)
  }

  const options = read(join(src, 'options.ts'))
  const fromEnv =
    /export\s+(async\s+)?function\s+fromEnv\b/.test(options ?? '') ||
    /export\s+const\s+fromEnv\b/.test(options ?? '') ||
    /export\s*\{[^}]*\bfromEnv\b[^}]*\}/.test(options ?? '')
  if (options !== undefined && !fromEnv) {
    problems.push(`${dir}: src/options.ts does not export a fromEnv function`)
  }

  const index = read(join(src, 'index.ts'))
  const exportsFactory =
    new RegExp(`export\\s+(async\\s+)?function\\s+${factory}\\b`).test(index ?? '') ||
    new RegExp(`export\\s+const\\s+${factory}\\b`).test(index ?? '') ||
    new RegExp(`export\\s*\\{[^}]*(?<!type\\s)\\b${factory}\\b[^}]*\\}`).test(index ?? '')
  if (index !== undefined && !exportsFactory) {
    problems.push(`${dir}: src/index.ts does not export the factory ${factory}()`)
  }
}

function read(path) {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

if (problems.length > 0) {
  for (const problem of problems) console.error(`check-adapters: ${problem}`)
  console.error(
    `check-adapters: ${problems.length} problem(s); every adapter's src has ${REQUIRED.join(', ')}`,
  )
  process.exit(1)
}
console.log(`check-adapters: ${adapters.length} adapters have the same files and factory names`)
