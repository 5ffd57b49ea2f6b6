import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { publishedPackages } from './packages.js'

const packages = publishedPackages()

describe.each(packages)('manifest - $name', (pkg) => {
  const m = pkg.manifest as Record<string, unknown> & typeof pkg.manifest

  it('ships an MIT LICENSE and says where the code, docs and issues live', () => {
    expect(m.license).toBe('MIT')
    const license = join(pkg.dir, 'LICENSE')
    expect(existsSync(license), `${pkg.name} has no LICENSE`).toBe(true)
    expect(readFileSync(license, 'utf8')).toMatch(/^MIT License\n/)
    expect(m.repository).toMatchObject({
      type: 'git',
      directory: `packages/${basename(pkg.dir)}`,
    })
    expect(m.homepage).toMatch(/^https:\/\//)
    expect(m.bugs).toMatchObject({ url: expect.stringMatching(/^https:\/\//) })
  })

  it('ships dist only; its source maps carry the sources, by relative path', () => {
    expect(m.files).toEqual(['dist'])
    const dist = join(pkg.dir, 'dist')
    expect(existsSync(dist), `${pkg.name}: run pnpm build first`).toBe(true)
    const maps = readdirSync(dist).filter((f) => f.endsWith('.map'))
    expect(maps.length).toBeGreaterThan(0)
    for (const file of maps) {
      const map = JSON.parse(readFileSync(join(dist, file), 'utf8')) as {
        sources: string[]
        sourcesContent?: (string | null)[]
      }
      expect(
        map.sources.every((s) => !s.startsWith('/')),
        `${file}: ${map.sources[0]}`,
      ).toBe(true)
      // An entry that only re-exports a shared chunk maps no sources and may omit the field.
      expect(map.sourcesContent?.length ?? 0, file).toBe(map.sources.length)
      expect(
        (map.sourcesContent ?? []).every((c) => typeof c === 'string'),
        file,
      ).toBe(true)
    }
  })

  it('maps every subpath for TypeScript resolutions that ignore exports (typesVersions)', () => {
    const exports = (m.exports ?? {}) as Record<string, { require: { types: string } }>
    const subpaths = Object.keys(exports).filter((s) => s !== '.' && s !== './package.json')
    const mapped = m.typesVersions?.['*'] ?? {}
    for (const subpath of subpaths) {
      const target = exports[subpath]?.require.types
      expect(mapped[subpath.slice(2)], `${pkg.name}/${subpath.slice(2)}`).toEqual([target])
    }
  })
})
