import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { publishedPackages } from './packages.js'

const run = promisify(execFile)
const require = createRequire(import.meta.url)
const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc')
const packages = publishedPackages()
const project = mkdtempSync(join(tmpdir(), 'switchyard-node10-'))

afterAll(() => rmSync(project, { recursive: true, force: true }))

/** A CommonJS TypeScript service as `tsc --init` makes it, with the packages installed beside it. */
function writeConsumer(): void {
  mkdirSync(join(project, 'node_modules', '@switchyard'), { recursive: true })
  mkdirSync(join(project, 'node_modules', '@types'), { recursive: true })
  for (const pkg of packages) {
    symlinkSync(pkg.dir, join(project, 'node_modules', '@switchyard', basename(pkg.dir)), 'dir')
  }
  const typesNode = dirname(require.resolve('@types/node/package.json'))
  symlinkSync(typesNode, join(project, 'node_modules', '@types', 'node'), 'dir')
  const specifiers = packages.flatMap((pkg) => pkg.specifiers)
  const lines = specifiers.map((s, i) => `import * as m${i} from '${s}'`)
  lines.push(`export const modules = [${specifiers.map((_, i) => `m${i}`).join(', ')}]`)
  writeFileSync(join(project, 'consumer.ts'), `${lines.join('\n')}\n`)
  const compilerOptions = {
    module: 'commonjs',
    moduleResolution: 'node10',
    target: 'es2022',
    strict: true,
    esModuleInterop: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
  }
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({ compilerOptions, files: ['consumer.ts'] }),
  )
}

describe('types - moduleResolution node10', () => {
  it('a CommonJS consumer resolves the types of every entry point', async () => {
    writeConsumer()
    const result = await run(process.execPath, [tsc, '-p', project], { cwd: project }).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    )
    expect(result).toBe('')
  })
})
