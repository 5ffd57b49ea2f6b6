// The consumers peer-ranges.mjs typechecks and runs in each scratch project. Kept as text: they
// import the packed packages and the peer under test, which exist only in that project.

/** `outbox-pglite.ts` */
export const outboxPglite = `// The outbox quick start on the PGlite version installed beside it: typechecked, then run.
import { PGlite } from '@electric-sql/pglite'
import { memoryTransport } from '@switchyard/adapter-memory'
import { createEventBus } from '@switchyard/core'
import { createRelay, enqueue, migrate, outboxLag, pgliteDriver } from '@switchyard/outbox'

const db = new PGlite()
await migrate(db)
const bus = createEventBus({ transport: memoryTransport(), source: 'peer-check' })
const seen: string[] = []
await bus.subscribe('peer-check', (event) => void seen.push(event.type), { group: 'check' })
const relay = createRelay({ driver: pgliteDriver(db), bus })
await relay.start()
await db.transaction(async (tx) => {
  await enqueue(tx, 'peer-check', { type: 'peer.checked', data: { n: 1 } }, { source: 'check' })
})
const deadline = Date.now() + 10_000
while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
await relay.stop()
const lag = await outboxLag(db)
await bus.close()
await db.close()
if (seen.length !== 1) throw new Error(\`expected one event through the relay, saw \${seen.length}\`)
console.log(\`ok: PGlite relayed \${seen[0]}, lag \${lag}\`)
`

/** `outbox-pg.ts` */
export const outboxPg = `// The outbox on PostgreSQL through the \`pg\` version installed beside it: typechecked, then run.
import { memoryTransport } from '@switchyard/adapter-memory'
import { createEventBus } from '@switchyard/core'
import { createRelay, enqueue, migrate, pgDriver } from '@switchyard/outbox'
import pg from 'pg'

const url = process.env.SWITCHYARD_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/switchyard'
const table = \`outbox_peer_\${process.pid}\`
const pool = new pg.Pool({ connectionString: url })
await migrate(pool, { table })
const bus = createEventBus({ transport: memoryTransport(), source: 'peer-check' })
const seen: string[] = []
await bus.subscribe('peer-check', (event) => void seen.push(event.type), { group: 'check' })
const relay = createRelay({ driver: pgDriver({ pool }), bus, table })
await relay.start()
const client = await pool.connect()
try {
  await client.query('BEGIN')
  await enqueue(client, 'peer-check', { type: 'peer.checked', data: {} }, { source: 'c', table })
  await client.query('COMMIT')
} finally {
  client.release()
}
const deadline = Date.now() + 10_000
while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
await relay.stop()
await bus.close()
await pool.query(\`DROP TABLE IF EXISTS \${table} CASCADE\`)
await pool.end()
if (seen.length !== 1) throw new Error(\`expected one event through the relay, saw \${seen.length}\`)
console.log(\`ok: pg relayed \${seen[0]}\`)
`

/** `testkit-vitest.test.ts` */
export const testkitVitest = `// The conformance suite and the helpers of @switchyard/testkit under the vitest version
// installed beside it, on the memory transport.
import { createMemoryBroker, memoryTransport } from '@switchyard/adapter-memory'
import { createTestBus, transportConformance } from '@switchyard/testkit'
import { expect, it } from 'vitest'

const broker = createMemoryBroker()
const probe = memoryTransport({ broker })

transportConformance('memory', () => memoryTransport({ broker }), {
  features: probe.features,
  delayToleranceMs: 100,
  timeoutMs: 15_000,
})

it('testkit - createTestBus records what is published', async () => {
  const bus = createTestBus({ transport: memoryTransport(), source: 'peer-check' })
  await bus.publish('t', { type: 'peer.checked', data: {} })
  expect(bus.publishedTo('t', 'peer.checked')).toHaveLength(1)
  await bus.close()
})
`
