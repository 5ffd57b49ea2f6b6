import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository's `packages/` folder. */
export const packagesRoot = fileURLToPath(new URL('../../../packages/', import.meta.url))

/** A published package, as its manifest declares it. */
export interface PublishedPackage {
  name: string
  dir: string
  manifest: {
    name: string
    private?: boolean
    exports?: Record<string, unknown>
    peerDependencies?: Record<string, string>
    typesVersions?: Record<string, Record<string, string[]>>
  }
  /** Every import specifier the `exports` map offers, `./package.json` aside. */
  specifiers: string[]
}

/** Every non-private package under `packages/`, with the specifiers its `exports` map offers. */
export function publishedPackages(): PublishedPackage[] {
  const found: PublishedPackage[] = []
  for (const entry of readdirSync(packagesRoot).sort()) {
    const dir = join(packagesRoot, entry)
    if (!existsSync(join(dir, 'package.json'))) continue
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    if (manifest.private === true) continue
    const specifiers = Object.keys(manifest.exports ?? {})
      .filter((subpath) => subpath !== './package.json')
      .map((subpath) => (subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`))
    found.push({ name: manifest.name, dir, manifest, specifiers })
  }
  return found
}
