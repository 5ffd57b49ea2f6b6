// Proves the peer ranges the packages declare: for each peer below, the lowest version the range
// allows and the newest of each of its branches are installed with npm (strict peer resolution,
// as a user's `npm install` does) beside the packed packages, then a consumer is typechecked
// under `strict` and run. Needs the network and a built workspace, so it is a separate command,
// not part of CI:  node tooling/package-check/peer-ranges.mjs [outbox-pglite|outbox-pg|testkit]
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as fixtures from './peers/fixtures.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const repo = join(here, '..', '..')
const require = createRequire(import.meta.url)
const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc')
const typeRoots = [join(dirname(require.resolve('@types/node/package.json')), '..')]

const cases = {
  'outbox-pglite': {
    owner: 'outbox',
    peer: '@electric-sql/pglite',
    packs: ['core', 'adapter-memory', 'outbox'],
    fixture: 'outbox-pglite.ts',
    source: fixtures.outboxPglite,
  },
  'outbox-pg': {
    owner: 'outbox',
    peer: 'pg',
    extra: (version) => ({ '@types/pg': `^${version.split('.').slice(0, 2).join('.')}` }),
    packs: ['core', 'adapter-memory', 'outbox'],
    fixture: 'outbox-pg.ts',
    source: fixtures.outboxPg,
  },
  testkit: {
    owner: 'testkit',
    peer: 'vitest',
    packs: ['core', 'adapter-memory', 'testkit'],
    fixture: 'testkit-vitest.test.ts',
    source: fixtures.testkitVitest,
    vitest: true,
  },
}

const sh = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

const numeric = (v) => v.split('.').map(Number)
const compare = (a, b) => {
  const [x, y] = [numeric(a), numeric(b)]
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i]
  return 0
}

/** The lowest version `range` allows and the newest of each `||` branch, from the registry. */
function versionsToTry(peer, range) {
  const inRange = (r) => {
    const out = JSON.parse(sh('npm', ['view', `${peer}@${r}`, 'version', '--json'], repo))
    return (Array.isArray(out) ? out : [out]).filter((v) => /^\d+\.\d+\.\d+$/.test(v)).sort(compare)
  }
  const all = inRange(range)
  const newest = range.split('||').map((branch) => inRange(branch.trim()).at(-1))
  return [...new Set([all[0], ...newest])].filter(Boolean)
}

const work = mkdtempSync(join(tmpdir(), 'switchyard-peers-'))
const tarballs = join(work, 'tarballs')
mkdirSync(tarballs)
const packed = {}
function pack(dir) {
  if (packed[dir] === undefined) {
    const before = new Set(readdirSync(tarballs))
    sh(
      'npx',
      ['--yes', 'pnpm@10.34.8', 'pack', '--pack-destination', tarballs],
      join(repo, 'packages', dir),
    )
    const file = readdirSync(tarballs).find((f) => !before.has(f))
    const manifest = JSON.parse(readFileSync(join(repo, 'packages', dir, 'package.json'), 'utf8'))
    packed[dir] = { name: manifest.name, file: join(tarballs, file) }
  }
  return packed[dir]
}

const only = process.argv[2]
const results = []
for (const [name, spec] of Object.entries(cases)) {
  if (only !== undefined && only !== name) continue
  const manifest = JSON.parse(
    readFileSync(join(repo, 'packages', spec.owner, 'package.json'), 'utf8'),
  )
  const range = manifest.peerDependencies[spec.peer]
  for (const version of versionsToTry(spec.peer, range)) {
    const dir = join(work, `${name}-${version}`)
    mkdirSync(dir)
    const dependencies = { [spec.peer]: version, ...(spec.extra?.(version) ?? {}) }
    for (const p of spec.packs.map(pack)) dependencies[p.name] = `file:${p.file}`
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ private: true, type: 'module', dependencies }),
    )
    writeFileSync(join(dir, spec.fixture), spec.source)
    const compilerOptions = {
      module: 'nodenext',
      target: 'es2022',
      strict: true,
      skipLibCheck: true,
      outDir: 'out',
      types: ['node'],
      typeRoots,
      ...(spec.vitest ? { noEmit: true } : {}),
    }
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions, files: [spec.fixture] }),
    )
    const failures = []
    const attempt = (stage, fn) => {
      try {
        return fn()
      } catch (error) {
        const text = `${error.stdout ?? ''}\n${error.stderr ?? ''}`.trim()
        const lines = text.split('\n')
        failures.push(`${stage}: ${lines.find((l) => /ERR|error|Error|FAIL/.test(l)) ?? lines[0]}`)
        return undefined
      }
    }
    const installed = attempt('install', () =>
      sh('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], dir),
    )
    let detail = ''
    if (installed !== undefined) {
      // tsc emits even when the types fail, so the run still says whether the code works.
      attempt('typecheck', () => sh(process.execPath, [tsc, '-p', dir], dir))
      const output = attempt('run', () =>
        spec.vitest
          ? sh(join(dir, 'node_modules', '.bin', 'vitest'), ['run', '--reporter=dot'], dir)
          : sh(process.execPath, [join(dir, 'out', spec.fixture.replace(/\.ts$/, '.js'))], dir),
      )
      detail = output?.trim().split('\n').at(-1) ?? ''
    }
    results.push({
      case: name,
      peer: `${spec.peer}@${version}`,
      range,
      ok: failures.length === 0,
      detail: [...failures, detail].filter(Boolean).join(' | '),
    })
    const last = results.at(-1)
    console.log(
      `${last.ok ? 'ok  ' : 'FAIL'} ${last.case}: ${last.peer} (declared ${range}): ${last.detail}`,
    )
  }
}
console.log(`work folder: ${work}`)
if (results.some((r) => !r.ok)) process.exit(1)
