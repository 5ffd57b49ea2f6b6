// Import rules for `pnpm lint`: `depcruise --config tooling/config/dependency-cruiser.cjs packages
// apps tooling`. DESIGN.md's layers ("arrows point down only, checked by a tool") and STYLE.md
// rules 4, 6 and 15 written as rules a build can fail on. Paths below are resolved paths relative
// to the repository root: a workspace package resolves through its `@switchyard/source` export
// condition to its own `src/`, so `@switchyard/core` is `packages/core/src/index.ts` here.
const { readdirSync, readFileSync } = require('node:fs')
const { join } = require('node:path')

const root = join(__dirname, '..', '..')

// Test and benchmark code may reach further than library code: it wires real adapters together.
const TEST = '(\\.test\\.ts$|^(packages|apps)/[^/]+/(test|bench)/)'

const escapeRegex = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

// The declared doors of every workspace package: each `exports` entry's `@switchyard/source`
// target (`.`, `./transport`, `./olive`, ...). Read from the manifests, so a subpath added to
// `exports` is allowed here at once and nothing else is.
const entryPoints = []
for (const dir of readdirSync(join(root, 'packages')).sort()) {
  let manifest
  try {
    manifest = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'))
  } catch {
    continue
  }
  for (const target of Object.values(manifest.exports ?? {})) {
    const source = typeof target === 'object' ? target['@switchyard/source'] : undefined
    if (typeof source === 'string') {
      entryPoints.push(`^packages/${escapeRegex(dir)}/${escapeRegex(source.replace(/^\.\//, ''))}$`)
    }
  }
}

// The one client library each adapter wraps (STYLE.md rule 2 and 6); the memory adapter has none.
const adapterClients = {
  memory: [],
  redis: ['ioredis'],
  nats: ['@nats-io/'],
  kafka: ['kafkajs'],
}
const npmPath = (names) =>
  names.map((name) => `(^|/)node_modules/${escapeRegex(name)}${name.endsWith('/') ? '' : '(/|$)'}`)

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'A cycle (type-only imports included) means two modules cannot be read, tested or split ' +
        'apart on their own, and a runtime cycle can hand one of them an undefined binding at ' +
        'load time. Move what both need into a third module both import.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment:
        'Every import must resolve. An @switchyard/* specifier that does not resolve is usually a ' +
        'deep import that `exports` blocks (`@switchyard/core/src/...`); import the package name ' +
        'or a declared subpath (`@switchyard/core/transport`) instead.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'core-imports-nothing',
      severity: 'error',
      comment:
        'DESIGN.md: core has no runtime dependency at all. Its sources import node: builtins and ' +
        'its own files only: no other workspace package, no npm package.',
      from: { path: '^packages/core/', pathNot: TEST },
      // An import that does not resolve is not-to-unresolvable's to report, not this rule's.
      to: { pathNot: '^packages/core/', dependencyTypesNot: ['core'], couldNotResolve: false },
    },
    {
      name: 'testkit-over-core-only',
      severity: 'error',
      comment:
        'The conformance suite is written against the Transport contract alone; depending on a ' +
        'concrete adapter or another package would make the contract test whatever that one does.',
      from: { path: '^packages/testkit/', pathNot: TEST },
      to: { path: '^(packages|apps)/', pathNot: '^packages/(core|testkit)/' },
    },
    {
      name: 'adapter-over-core-only',
      severity: 'error',
      comment:
        'An adapter is a binding between core and its one client (STYLE.md rule 3): anything it ' +
        'needs from the rest of the workspace belongs in core.',
      from: { path: '^packages/(adapter-[^/]+)/', pathNot: TEST },
      to: { path: '^(packages|apps)/', pathNot: '^packages/(core|$1)/' },
    },
    ...Object.entries(adapterClients).map(([adapter, clients]) => ({
      name: `adapter-${adapter}-one-client`,
      severity: 'error',
      comment:
        `adapter-${adapter} depends on core and ${clients.length === 0 ? 'no client library' : clients.join(', ')} ` +
        'only (STYLE.md rule 6): a second npm dependency is a second thing every user installs.',
      from: { path: `^packages/adapter-${adapter}/`, pathNot: TEST },
      to: {
        path: '(^|/)node_modules/',
        ...(clients.length > 0 ? { pathNot: npmPath(clients) } : {}),
      },
    })),
    {
      name: 'built-on-the-bus-over-core-only',
      severity: 'error',
      comment:
        'streams, event-store, otel, schemas and outbox sit on core and beside each other, never ' +
        'on each other, the gateway, the CLI or an app. One sideways arrow is in DESIGN.md: the ' +
        'event store appends through the outbox in the same transaction.',
      from: { path: '^packages/(streams|otel|schemas|outbox)/', pathNot: TEST },
      to: { path: '^(packages|apps)/', pathNot: '^packages/(core|$1)/' },
    },
    {
      name: 'event-store-sideways-to-outbox-only',
      severity: 'error',
      comment:
        'The same rule for the event store, with the one sideways arrow DESIGN.md names: it ' +
        'appends through the outbox, in the same transaction.',
      from: { path: '^packages/event-store/', pathNot: TEST },
      to: { path: '^(packages|apps)/', pathNot: '^packages/(core|outbox|event-store)/' },
    },
    {
      name: 'gateway-not-over-cli',
      severity: 'error',
      comment:
        'The CLI is the top of the stack (it may talk to a gateway); the gateway must not need it.',
      from: { path: '^packages/gateway/', pathNot: TEST },
      to: { path: '^packages/cli/' },
    },
    {
      name: 'packages-not-over-apps',
      severity: 'error',
      comment: 'Apps use everything and nothing uses an app: arrows point down only.',
      from: { path: '^packages/' },
      to: { path: '^apps/' },
    },
    {
      name: 'adapters-chosen-at-the-top-only',
      severity: 'error',
      comment:
        'DESIGN.md: nothing imports an adapter except apps, the gateway and the CLI (which pick ' +
        'one from configuration), tests and benchmarks. A library that imports an adapter ties ' +
        'every user to that broker.',
      from: { path: '^packages/([^/]+)/', pathNot: `${TEST}|^packages/(gateway|cli)/` },
      to: { path: '^packages/adapter-', pathNot: '^packages/$1/' },
    },
    {
      name: 'no-adapter-to-adapter',
      severity: 'error',
      comment:
        'Adapters are siblings: shared code between two of them belongs in core ' +
        '(`@switchyard/core/transport`), not in one adapter the other reaches into.',
      from: { path: '^packages/(adapter-[^/]+)/', pathNot: TEST },
      to: { path: '^packages/adapter-', pathNot: '^packages/$1/' },
    },
    {
      name: 'only-declared-entry-points',
      severity: 'error',
      comment:
        'One door per package (STYLE.md rule 4): another package is imported by its name or a ' +
        'subpath declared in its `exports`, never by a file inside it.',
      from: { path: '^(packages|apps)/([^/]+)/' },
      to: { path: '^packages/', pathNot: ['^packages/$2/', ...entryPoints] },
    },
    {
      name: 'no-relative-import-across-packages',
      severity: 'error',
      comment:
        'A relative path that climbs into another package bypasses its manifest: it works in the ' +
        'repository and breaks once published. Import the package name instead.',
      from: { path: '^(packages|apps)/([^/]+)/' },
      to: { path: '^(packages|apps)/', pathNot: '^$1/$2/', dependencyTypes: ['local'] },
    },
    {
      name: 'src-not-to-test',
      severity: 'error',
      comment:
        'Published sources must not need test helpers or fixtures: `test/` is not shipped, so the ' +
        'built package would not load.',
      from: { path: '^(packages|apps)/[^/]+/src/', pathNot: '\\.test\\.ts$' },
      to: { path: ['^(packages|apps)/[^/]+/test/', '\\.test\\.ts$'] },
    },
  ],
  options: {
    // Sources are packages/*/{src,test,bench,scripts}, apps/*/{src,test} and tooling; the
    // three-line config files at a package's root and build output are not. node_modules is not
    // excluded but not followed: an import of an npm package stays in the graph (the rules above
    // look at it) while the package's own files are not cruised.
    exclude: {
      path: ['(^|/)(dist|\\.turbo|coverage)/', '^(packages|apps)/[^/]+/[^/]+\\.[cm]?[jt]s$'],
    },
    doNotFollow: { path: ['(^|/)node_modules/'] },
    // Type-only imports count: a cycle of types is still a cycle.
    tsPreCompilationDeps: true,
    // The shared compiler options (NodeNext, `.js` specifiers of `.ts` files). The base file alone
    // has no inputs, which TypeScript refuses, so go through a package that extends it; the path
    // is absolute because TypeScript finds no inputs for a relative one here.
    tsConfig: { fileName: join(root, 'packages', 'core', 'tsconfig.json') },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['@switchyard/source', 'import', 'require', 'node', 'default'],
      extensions: ['.ts', '.mjs', '.js', '.cjs', '.json'],
      mainFields: ['module', 'main', 'types'],
    },
    skipAnalysisNotInRules: true,
  },
}
