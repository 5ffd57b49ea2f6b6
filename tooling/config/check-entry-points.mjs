// Loads every published package's built entry points in plain Node, as ESM and as CommonJS.
// Tests run the TypeScript sources through vitest, which forgives what Node does not (a named
// import that Node's loader cannot find in a CommonJS dependency, a missing file in `exports`).
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('../../packages/', import.meta.url).pathname
let failures = 0
let checked = 0
for (const dir of readdirSync(root).sort()) {
  const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'))
  if (manifest.private) continue
  // The testkit runs inside vitest (it declares suites); loading it bare is meant to fail.
  if (manifest.peerDependencies?.vitest !== undefined) continue
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    if (subpath === './package.json' || typeof target !== 'object') continue
    const specifier = subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`
    const scripts = {
      esm: `const m = await import(${JSON.stringify(specifier)}); if (Object.keys(m).length === 0) throw new Error('no exports')`,
      cjs: `const m = require(${JSON.stringify(specifier)}); if (Object.keys(m).length === 0) throw new Error('no exports')`,
    }
    for (const [kind, script] of Object.entries(scripts)) {
      if (kind === 'cjs' && target.require === undefined) continue
      if (kind === 'esm' && target.import === undefined) continue
      checked++
      try {
        const args = kind === 'esm' ? ['--input-type=module', '-e', script] : ['-e', script]
        execFileSync(process.execPath, args, { cwd: join(root, dir), stdio: 'pipe' })
      } catch (error) {
        failures++
        const detail = String(error.stderr ?? error)
          .split('\n')
          .find((l) => /Error/.test(l))
        console.error(`check-entry-points: ${specifier} (${kind}) does not load: ${detail}`)
      }
    }
  }
}
if (failures > 0) process.exit(1)
console.log(`check-entry-points: ${checked} entry points load in plain Node (ESM and CommonJS)`)
