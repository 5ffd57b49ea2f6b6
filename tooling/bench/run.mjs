// `pnpm bench`: runs every packages/*/bench/*.bench.mjs, then tooling/bench-peers/bench/*.bench.mjs
// (the bus beside its closest peer, whose dependencies stay out of the packages), in one process,
// one after another, and
// prints each figure beside the raw client doing the same work in the same run, with the ratio,
// so machine noise cancels. `pnpm bench -- redis nats` runs only files whose path matches a word.
// SWITCHYARD_BENCH_QUICK=1 asks each file for a short run.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const root = new URL('../../packages/', import.meta.url).pathname
const repo = new URL('../../', import.meta.url).pathname
const peers = join(repo, 'tooling', 'bench-peers', 'bench')
const words = process.argv.slice(2).filter((a) => a !== '--')
const quick = process.env.SWITCHYARD_BENCH_QUICK === '1'
const files = []
for (const pkg of readdirSync(root).sort()) {
  let entries = []
  try {
    entries = readdirSync(join(root, pkg, 'bench'))
  } catch {
    continue
  }
  for (const file of entries.sort()) {
    const path = join(root, pkg, 'bench', file)
    if (!file.endsWith('.bench.mjs')) continue
    if (words.length > 0 && !words.some((w) => path.includes(w))) continue
    files.push(path)
  }
}
let peerEntries = []
try {
  peerEntries = readdirSync(peers).sort()
} catch {
  // No peer benches in this checkout.
}
for (const file of peerEntries) {
  const path = join(peers, file)
  if (!file.endsWith('.bench.mjs')) continue
  if (words.length > 0 && !words.some((w) => path.includes(w))) continue
  files.push(path)
}

const rows = []
const format = (n) =>
  typeof n !== 'number'
    ? '-'
    : n >= 100
      ? Math.round(n).toLocaleString('en-US')
      : n.toFixed(n >= 10 ? 1 : 3)
for (const file of files) {
  const name = file.startsWith(root) ? file.slice(root.length) : file.slice(repo.length)
  console.log(`\n# ${name}`)
  const mod = await import(pathToFileURL(file).href)
  const report = (row) => {
    const higher = row.higherIsBetter ?? row.unit !== 'ms'
    const ratio = typeof row.raw === 'number' && row.raw > 0 ? row.ours / row.raw : undefined
    const full = { file: name, ...row, higherIsBetter: higher, ratio }
    rows.push(full)
    const vs =
      row.raw === undefined
        ? ''
        : ` | raw ${format(row.raw)} (${row.rawLabel ?? 'raw client'}) | ratio ${ratio?.toFixed(2)}x`
    console.log(
      `  ${row.scenario}: ${format(row.ours)} ${row.unit}${vs}${row.target ? ` | target ${row.target}` : ''}`,
    )
  }
  try {
    await mod.default({ report, quick })
  } catch (error) {
    console.log(`  failed: ${error?.stack ?? error}`)
  }
}

console.log('\n## Summary\n')
console.log('| scenario | ours | raw | ratio | target |')
console.log('| --- | ---: | ---: | ---: | --- |')
for (const r of rows) {
  const unit = r.unit
  const ratio = r.ratio === undefined ? '-' : `${r.ratio.toFixed(2)}x`
  console.log(
    `| ${r.scenario} | ${format(r.ours)} ${unit} | ${r.raw === undefined ? '-' : `${format(r.raw)} ${unit} (${r.rawLabel ?? 'raw'})`} | ${ratio} | ${r.target ?? ''} |`,
  )
}
process.exit(0)
