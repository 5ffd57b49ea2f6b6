import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { type PublishedPackage, publishedPackages } from './packages.js'

const run = promisify(execFile)
const probe = join(import.meta.dirname, 'probe.cjs')

interface Report {
  entries: Record<string, string>
  checks: { what: string; ok: boolean; results: unknown[]; detail?: string }[]
}

/** Loads every entry of `pkg` in a plain Node child, with `require` or with `import`. */
async function probeIn(pkg: PublishedPackage, format: 'cjs' | 'esm'): Promise<Report> {
  const args = JSON.stringify({ name: pkg.name, specifiers: pkg.specifiers })
  const script =
    format === 'cjs'
      ? `require(${JSON.stringify(probe)}).run((s) => Promise.resolve(require(s)), ${args})`
      : `const { run } = await import(${JSON.stringify(pathToFileURL(probe).href)}); await run((s) => import(s), ${args})`
  const flags = format === 'esm' ? ['--input-type=module'] : []
  const { stdout } = await run(process.execPath, [...flags, '-e', script], {
    cwd: pkg.dir,
    timeout: 60_000,
  })
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Report
}

// A package that declares suites (the testkit) needs a running vitest: vitest refuses `require`
// outright and fails `import` outside its runner. Its `.` entry is loaded by this worker instead.
const vitestRefusal = {
  cjs: 'Vitest cannot be imported in a CommonJS module',
  esm: 'Vitest failed to access its internal state',
}

const packages = publishedPackages()

describe.each(packages)('entry points - $name', (pkg) => {
  const needsVitest = pkg.manifest.peerDependencies?.vitest !== undefined

  it.each(['cjs', 'esm'] as const)(
    'every entry loads with %s and shares one class identity with core',
    async (format) => {
      expect(existsSync(join(pkg.dir, 'dist')), `${pkg.name}: run pnpm build first`).toBe(true)
      const report = await probeIn(pkg, format)
      for (const specifier of pkg.specifiers) {
        const outcome = report.entries[specifier]
        if (needsVitest && specifier === pkg.name) expect(outcome).toContain(vitestRefusal[format])
        else expect(outcome, `${specifier} (${format})`).toBe('ok')
      }
      const failed = report.checks.filter((c) => !c.ok)
      expect(failed).toEqual([])
    },
  )

  // Only testkit's main entry is bound to vitest: the test exists for it alone, not as a skip.
  if (needsVitest) {
    it('the vitest-bound entry loads inside vitest', async () => {
      const exports = pkg.manifest.exports?.['.'] as { import: { default: string } }
      const m = await import(pathToFileURL(join(pkg.dir, exports.import.default)).href)
      expect(Object.keys(m).length).toBeGreaterThan(0)
    })
  }
})

describe('entry points - coverage', () => {
  it('covers core and every multi-entry package', () => {
    const names = packages.map((p) => p.name)
    expect(names).toContain('@switchyard/core')
    expect(names).toContain('@switchyard/schemas')
    expect(packages.find((p) => p.name === '@switchyard/core')?.specifiers).toEqual([
      '@switchyard/core',
      '@switchyard/core/transport',
    ])
  })
})
