import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { allBlocks, type Block, blockName, findReadmes, LANGUAGES } from '../src/readmes.js'
import { type Diagnostic, Pool, run, Sandbox, typecheck } from '../src/sandbox.js'
import { addressOf, SERVICES, servicesOf, unreachable } from '../src/services.js'

// Every fenced block of every README, checked per its language (see this folder's README.md):
// TypeScript and JavaScript blocks are written to files, typechecked under `strict` in one tsc
// run, and each run as its own Node process against the real services, which must exit 0 within
// RUN_TIMEOUT_MS; JSON and YAML blocks are parsed; shell blocks are syntax-checked by bash.
const root = fileURLToPath(new URL('../../../', import.meta.url))
const readmes = findReadmes(root)
const blocks = allBlocks(root)
const RUN_TIMEOUT_MS = 60_000
const PROCESSES = 3

const runnable = blocks.filter((b) => !b.skip && (b.kind === 'ts' || b.kind === 'js'))
const isVitest = (b: Block): boolean => b.flags.includes('vitest')
const fileOf = (b: Block): string =>
  `${b.readme.replace(/\/?README\.md$/, '').replaceAll('/', '__') || 'root'}__block-${b.index}` +
  `${isVitest(b) ? '.test' : ''}.${b.kind === 'ts' ? 'mts' : 'mjs'}`
const FLAGS = ['vitest']
const vitestCli = join(
  dirname(createRequire(join(root, 'package.json')).resolve('vitest/package.json')),
  'vitest.mjs',
)

let sandbox: Sandbox
const diagnostics = new Map<string, Diagnostic[]>()
const processes = new Pool(PROCESSES)
// One example at a time per service: examples share topic and group names.
const serviceLocks = new Map(SERVICES.map((s) => [s.name, new Pool(1)]))

const childEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) => !/^(VITEST|NODE_OPTIONS$|NODE_ENV$|TEST$)/.test(key),
  ),
)
for (const service of SERVICES) childEnv[service.env] = addressOf(service)

beforeAll(async () => {
  sandbox = new Sandbox(root, `run-${process.pid}`)
  sandbox.linkImports(runnable)
  const tsFiles: string[] = []
  for (const block of runnable) {
    const path = sandbox.write(fileOf(block), block.code)
    if (block.kind === 'ts') tsFiles.push(path)
  }
  for (const diagnostic of await typecheck(root, tsFiles)) {
    const list = diagnostics.get(diagnostic.file) ?? []
    list.push(diagnostic)
    diagnostics.set(diagnostic.file, list)
  }
}, 300_000)

afterAll(() => {
  sandbox?.dispose()
  const count = (kind: string) => blocks.filter((b) => b.kind === kind && !b.skip).length
  const skipped = blocks.filter((b) => b.skip)
  console.log(
    [
      `readme-examples: ${readmes.length} READMEs, ${blocks.length} code blocks: ` +
        `${count('ts')} TypeScript (typechecked and run), ${count('js')} JavaScript (run), ` +
        `${count('json') + count('yaml')} JSON/YAML (parsed), ${count('shell')} shell (bash -n), ` +
        `${count('text')} text (not checked), ${skipped.length} skipped`,
      ...skipped.map((b) => `  skipped: ${blockName(b)}: ${b.skip}`),
    ].join('\n'),
  )
})

// Diagnostics that tsc could not attach to a block's file (a bad flag, a missing @types).
it('readme-examples - tsc reports nothing outside the blocks', () => {
  expect(diagnostics.get('') ?? []).toEqual([])
})

for (const readme of readmes) {
  const own = blocks.filter((b) => b.readme === readme)
  describe.concurrent(readme, () => {
    it(`${readme} - every code block has a language the rules know`, () => {
      const unknown = own.filter((b) => b.kind === undefined).map(blockName)
      expect(
        unknown,
        `add the language to LANGUAGES in src/readmes.ts (${Object.keys(LANGUAGES).join(', ')})`,
      ).toEqual([])
      const badFlags = own
        .filter(
          (b) =>
            b.flags.some((f) => !FLAGS.includes(f)) ||
            (isVitest(b) && b.kind !== 'ts' && b.kind !== 'js'),
        )
        .map(blockName)
      expect(
        badFlags,
        `known info-string flags: ${FLAGS.join(', ')} (on ts and js blocks)`,
      ).toEqual([])
    })
    for (const block of own) {
      const name = blockName(block)
      if (block.skip) {
        it.skip(`${name} - skipped: ${block.skip}`, () => {})
      } else if (block.kind === 'ts' || block.kind === 'js') {
        it.concurrent(
          `${name} - ${block.kind === 'ts' ? 'typechecks and ' : ''}runs to exit 0`,
          async ({ skip }) => {
            await checkProgram(block, skip)
          },
          10 * RUN_TIMEOUT_MS,
        )
      } else if (block.kind === 'json') {
        it(`${name} - parses`, () => {
          expect(() => JSON.parse(block.code)).not.toThrow()
        })
      } else if (block.kind === 'yaml') {
        it(`${name} - parses`, () => {
          const errors = parseAllDocuments(block.code).flatMap((doc) =>
            'errors' in doc ? doc.errors.map((e) => e.message) : [],
          )
          expect(errors).toEqual([])
        })
      } else if (block.kind === 'shell') {
        it(`${name} - bash -n accepts it`, async () => {
          const path = sandbox.write(`${fileOf(block)}.sh`, block.code)
          const result = await run('bash', ['-n', path], {
            cwd: root,
            env: process.env,
            timeoutMs: 10_000,
          })
          expect(result.output, name).toBe('')
          expect(result.code).toBe(0)
        })
      }
    }
  })
}

async function checkProgram(block: Block, skip: (note?: string) => void): Promise<void> {
  const file = fileOf(block)
  const path = `${sandbox.dir}/${file}`
  const errors = (diagnostics.get(path) ?? []).map(
    (d) => `${block.readme}:${block.line + d.line}:${d.column} ${d.message}`,
  )
  expect(errors, `${blockName(block)} does not typecheck under strict`).toEqual([])
  const services = servicesOf(block.code)
  for (const service of services) {
    const reason = await unreachable(service)
    if (!reason) continue
    const message = `${service.name} is not reachable (${reason}); start it with bash tooling/services/up.sh`
    if (process.env.CI) throw new Error(message)
    skip(message)
  }
  // A test file runs under vitest (which compiles it itself); any other block as a program.
  const args = isVitest(block)
    ? [vitestCli, 'run', '--config', sandbox.vitestConfig, '--root', sandbox.dir, file]
    : [block.kind === 'ts' ? path.replace(/\.mts$/, '.mjs') : path]
  const exec = () =>
    processes.use(() =>
      run(process.execPath, args, { cwd: sandbox.dir, env: childEnv, timeoutMs: RUN_TIMEOUT_MS }),
    )
  const locked = services.reduceRight<() => ReturnType<typeof exec>>(
    (inner, service) => () => serviceLocks.get(service.name)!.use(inner),
    exec,
  )
  const result = await locked()
  const tail = result.output.length > 6_000 ? `...${result.output.slice(-6_000)}` : result.output
  if (result.timedOut) {
    throw new Error(
      `${blockName(block)} did not exit within ${RUN_TIMEOUT_MS / 1000} s; output:\n${tail}`,
    )
  }
  expect(
    result.code,
    `${blockName(block)} exited with ${result.code ?? result.signal}; output:\n${tail}`,
  ).toBe(0)
  // An example that logs what it did and exits without a line has lost its work (a Kafka quick
  // start that closed before its handler ran). `console.error`/`warn` report failures: no line
  // is expected from them.
  if (/console\.(log|info)\(/.test(block.code)) {
    expect(result.output.trim(), `${blockName(block)} logs, yet printed nothing`).not.toBe('')
  }
  if (process.env.SHOW_README_OUTPUT) console.log(`${blockName(block)}:\n${result.output}`)
}
