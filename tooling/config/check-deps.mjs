// Fails the build when a broker client or @switchyard/core slips into a published package's
// `dependencies`: they must be peers, so a service installs only the clients it uses.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const PEER_ONLY = [
  /^@switchyard\/core$/,
  /^kafkajs$/,
  /^ioredis$/,
  /^@nats-io\//,
  /^pg$/,
  /^@opentelemetry\/api$/,
  /^@electric-sql\/pglite$/,
]
const root = new URL('../../packages/', import.meta.url).pathname
const problems = []
for (const dir of readdirSync(root)) {
  let manifest
  try {
    manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'))
  } catch {
    continue
  }
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    if (PEER_ONLY.some((re) => re.test(name))) {
      problems.push(`${manifest.name}: "${name}" must be a peerDependency, not a dependency`)
    }
  }
  if (dir !== 'core' && !manifest.peerDependencies?.['@switchyard/core']) {
    problems.push(`${manifest.name}: @switchyard/core must be a peerDependency`)
  }
}
if (problems.length > 0) {
  console.error(problems.join('\n'))
  process.exit(1)
}
console.log(
  `check-deps: ${readdirSync(root).length} packages keep broker clients and core as peers`,
)
