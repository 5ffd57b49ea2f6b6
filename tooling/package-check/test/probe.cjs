// Runs inside a plain Node child whose working directory is one package, so `load` resolves that
// package's own name (self-reference) and its dependencies the way an installed copy would. The
// same checks run for `require` and for `import`; the caller picks the loader. Prints one JSON
// report on stdout.
const net = require('node:net')

const CORE = '@switchyard/core'
const CORE_TRANSPORT = '@switchyard/core/transport'

/** @param {unknown} v */
const isClass = (v) =>
  typeof v === 'function' && /^class\b/.test(Function.prototype.toString.call(v))

/** @param {Record<string, unknown>} m */
function errorClasses(m) {
  return Object.entries(m).filter(
    ([, v]) => typeof v === 'function' && v.prototype instanceof Error,
  )
}

/** A port nothing listens on: bind one, then free it. */
function closedPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** @param {unknown} promiseOrFn */
async function caught(promiseOrFn) {
  try {
    await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn)
  } catch (error) {
    return error
  }
  return undefined
}

/** Errors that an entry throws or creates, checked against the classes of the other entries. */
const scenarios = {
  async [CORE](_mods, core, coreT, check) {
    const config = await caught(() => core.createEventBus({ source: 'probe' }))
    check('core: createEventBus without a transport throws a ConfigurationError of ./transport', [
      config instanceof coreT.ConfigurationError,
      config instanceof coreT.SwitchyardError,
    ])
    const timeout = await caught(coreT.withTimeout(new Promise(() => undefined), 1))
    check('core: withTimeout from ./transport rejects with a TimeoutError of .', [
      timeout instanceof core.TimeoutError,
      timeout instanceof core.SwitchyardError,
    ])
    check('core: a ConnectionError made through ./transport is one of .', [
      new coreT.ConnectionError('probe') instanceof core.ConnectionError,
    ])
  },
  async '@switchyard/schemas'(mods, core, coreT, check) {
    const index = mods['@switchyard/schemas']
    for (const sub of ['olive', 'anumate', 'marty']) {
      const m = mods[`@switchyard/schemas/${sub}`]
      const registry = m.getSchemaRegistry()
      check(`schemas: ./${sub} getSchemaRegistry() is a SchemaRegistry of .`, [
        registry instanceof index.SchemaRegistry,
      ])
      const catalog = Object.values(m).find((v) => v !== null && Array.isArray(v?.events))
      const invalid = await caught(() => registry.validate(catalog.events[0].type, 42))
      check(`schemas: ./${sub} validation throws core's SchemaValidationError`, [
        invalid instanceof core.SchemaValidationError,
        invalid instanceof coreT.SwitchyardError,
      ])
    }
  },
  async '@switchyard/adapter-redis'(mods, core, coreT, check) {
    const { redisTransport } = mods['@switchyard/adapter-redis']
    const port = await closedPort()
    const bus = core.createEventBus({
      source: 'probe',
      transport: redisTransport({ url: `redis://127.0.0.1:${port}` }),
    })
    const error = await caught(bus.publish('probe', { type: 'probe.sent', data: {} }))
    await caught(bus.close())
    check(
      'adapter-redis: a wrong port rejects as a ConnectionError',
      [error instanceof core.ConnectionError, error instanceof coreT.ConnectionError],
      `${error?.name}: ${error?.message}`,
    )
  },
}

/**
 * @param {(specifier: string) => Promise<Record<string, unknown>>} load
 * @param {{ name: string, specifiers: string[] }} pkg
 */
async function run(load, pkg) {
  const report = { entries: {}, checks: [] }
  const check = (what, results, detail) => {
    report.checks.push({ what, ok: results.every((r) => r === true), results, detail })
  }
  const mods = {}
  for (const specifier of pkg.specifiers) {
    try {
      mods[specifier] = await load(specifier)
      report.entries[specifier] = Object.keys(mods[specifier]).length > 0 ? 'ok' : 'no exports'
    } catch (error) {
      report.entries[specifier] = `${error?.name}: ${String(error?.message).split('\n')[0]}`
    }
  }
  const core = await load(CORE)
  const coreT = await load(CORE_TRANSPORT)
  // A class exported by several entries of the package is one class, not a copy per entry.
  const loaded = Object.entries(mods)
  for (const [i, [a, ma]] of loaded.entries()) {
    for (const [b, mb] of loaded.slice(i + 1)) {
      for (const [key, value] of Object.entries(ma)) {
        if (!isClass(value) || !(key in mb)) continue
        check(`${key} of ${a} is ${key} of ${b}`, [value === mb[key]])
      }
    }
  }
  // Every error class a package exports is one of core's, whichever core entry is asked.
  for (const [specifier, m] of loaded) {
    for (const [key, cls] of errorClasses(m)) {
      check(`${key} of ${specifier} extends SwitchyardError of both core entries`, [
        cls === core.SwitchyardError || cls.prototype instanceof core.SwitchyardError,
        cls === coreT.SwitchyardError || cls.prototype instanceof coreT.SwitchyardError,
      ])
      // Errors name themselves after their class (`new.target.name`); a bundler's rename shows.
      check(`${key} of ${specifier} is named ${key}`, [cls.name === key], cls.name)
    }
  }
  await scenarios[pkg.name]?.(mods, core, coreT, check)
  process.stdout.write(`${JSON.stringify(report)}\n`)
}

module.exports = { run }
