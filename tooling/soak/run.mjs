// `pnpm soak`: a long run per transport at half its measured end-to-end rate, with a fault every
// 60 s (broker transports: a restart of a private broker, then a SIGKILL of the consumer
// process, alternating; memory: closing and reopening the subscription with handlers in
// flight), memory sampled every 10 s. Prints published/handled/lost/duplicated and the memory
// slopes per transport; exits 1 when an event was lost. Not part of CI. See README.md here.
//
//   node --expose-gc tooling/soak/run.mjs [--transport memory|redis|nats|kafka|all]
//     [--minutes 10] [--rate <events/s>] [--fault-every 60]
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { build } from 'tsup'

/** The transports `--transport` accepts, in the order `all` runs them. */
const TRANSPORTS = ['memory', 'redis', 'nats', 'kafka']

const USAGE = `usage: pnpm soak -- [--transport memory|redis|nats|kafka|all] [--minutes 10] [--rate N] [--fault-every 60]
  --transport    which transport to soak; all runs them one after another (default: all)
  --minutes      length of each run, before the final drain (default: 10)
  --rate         events per second (default: half the end-to-end rate measured for 5 s at the start)
  --fault-every  seconds between faults (default: 60)`

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    transport: { type: 'string', default: 'all' },
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string' },
    'fault-every': { type: 'string', default: '60' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (values.help) {
  console.log(USAGE)
  process.exit(0)
}
const positive = (text, name) => {
  const n = Number(text)
  if (!(n > 0)) {
    console.error(`--${name} must be a positive number, got ${text}\n${USAGE}`)
    process.exit(2)
  }
  return n
}
const kinds = values.transport === 'all' ? TRANSPORTS : [values.transport]
if (!kinds.every((kind) => TRANSPORTS.includes(kind))) {
  console.error(`--transport must be one of ${TRANSPORTS.join(', ')} or all\n${USAGE}`)
  process.exit(2)
}
if (typeof globalThis.gc !== 'function') {
  console.error(
    'run with node --expose-gc (pnpm soak does): heap samples are taken after a full GC',
  )
  process.exit(2)
}
const options = {
  minutes: positive(values.minutes, 'minutes'),
  rate: values.rate === undefined ? undefined : Math.floor(positive(values.rate, 'rate')),
  faultEvery: positive(values['fault-every'], 'fault-every'),
  out: (line) => console.log(line),
}

// The soak and its consumer child run from one bundle made now, so a rebuild of a package's
// dist during the run (other work in the same checkout) cannot break the run or a consumer
// restarted after a kill. A rebuild under way right now is waited out by a retry.
// Under node_modules, which the linters and the import check skip.
const outDir = fileURLToPath(new URL('../../node_modules/.cache/switchyard-soak/', import.meta.url))
for (let attempt = 1; ; attempt++) {
  try {
    await build({
      config: false,
      entry: {
        soak: fileURLToPath(new URL('./soak.mjs', import.meta.url)),
        consumer: fileURLToPath(new URL('./consumer.mjs', import.meta.url)),
      },
      outDir,
      format: ['esm'],
      platform: 'node',
      target: 'node20',
      noExternal: [/./],
      dts: false,
      silent: true,
      // The CommonJS clients in the bundle require Node builtins.
      banner: {
        js: "import { createRequire as __soakRequire } from 'node:module'; const require = __soakRequire(import.meta.url);",
      },
    })
    break
  } catch (error) {
    if (attempt >= 5) throw error
    console.log(`bundling failed (${error.message}); a package may be rebuilding, trying again`)
    await new Promise((resolve) => setTimeout(resolve, 5_000))
  }
}
const { soak } = await import(pathToFileURL(`${outDir}soak.js`).href)
options.consumerScript = `${outDir}consumer.js`
options.kafkaScript = fileURLToPath(new URL('../services/kafka.sh', import.meta.url))

const results = []
for (const kind of kinds) {
  console.log(`\n# soak ${kind}`)
  try {
    const result = await soak(kind, options)
    results.push(result)
    console.log(`SOAK_RESULT ${JSON.stringify(result)}`)
    if (result.lost > 0)
      console.log(`  ${kind}: LOST ${result.lost}, first ids: ${result.lostIds.join(' ')}`)
    console.log(
      `  ${kind}: ${result.published} published and confirmed, ${result.handled} handled, ${result.lost} lost, ` +
        `${result.duplicated} handled more than once (${result.extraDeliveries} extra handlings), ` +
        `${result.publishFailed} publishes failed, ${result.notSent} not sent under back-pressure, ` +
        `${result.handledUnconfirmed} handled though their publish failed, ${result.consumerProcesses} consumer generations`,
    )
    for (const { message, count } of result.failures) {
      console.log(`  ${kind}: ${count} publishes failed (not counted as published): ${message}`)
    }
  } catch (error) {
    const message = String(error?.message ?? error).split('\n')[0]
    console.log(`  ${kind}: the run failed: ${message}`)
    results.push({ transport: kind, error: message })
  }
}

const mb = (n) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(1) : '-')
const slope = (n) =>
  typeof n === 'number' && Number.isFinite(n) ? `${n >= 0 ? '+' : ''}${n.toFixed(3)}` : '-'
const memory = (m) =>
  m === undefined
    ? ['same process', 'same process']
    : [
        `${mb(m.heapStart)} → ${mb(m.heapEnd)} (${slope(m.heapSlope)})`,
        `${mb(m.rssStart)} → ${mb(m.rssEnd)} (${slope(m.rssSlope)})`,
      ]
console.log('\n## Soak summary (memory in MB, slope in MB/min; heap after a full GC)\n')
console.log(
  '| transport | rate/s | published | handled | lost | duplicated | publish failed | faults | soak heap | soak RSS | consumer heap | consumer RSS |',
)
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | --- |')
for (const r of results) {
  if (r.error !== undefined) {
    console.log(`| ${r.transport} | did not run: ${r.error} | | | | | | | | | | |`)
    continue
  }
  const row = [
    r.transport,
    r.rate,
    r.published,
    r.handled,
    r.lost,
    r.duplicated,
    r.publishFailed,
    r.faults.length,
    ...memory(r.soakMemory),
    ...memory(r.consumerMemory),
  ]
  console.log(`| ${row.join(' | ')} |`)
}
const lost = results.some((r) => r.error !== undefined || r.lost > 0)
process.exit(lost ? 1 : 0)
