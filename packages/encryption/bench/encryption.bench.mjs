// The cost of encryption(): publish -> handle throughput with the middleware beside the same bus
// without it (the plain path), and beside a pass-through handle middleware (what any handle
// middleware costs: core's synchronous fast path is off), on memory and Redis. ~1 KB JSON events.
// Reads SWITCHYARD_REDIS_URL (default redis://127.0.0.1:6379).
import { randomBytes } from 'node:crypto'
import { memoryTransport } from '@switchyard/adapter-memory'
import { redisTransport } from '@switchyard/adapter-redis'
import { createEventBus, silentLogger } from '@switchyard/core'
import { encryption, staticKeys } from '@switchyard/encryption'
import { Redis } from 'ioredis'

const url = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379'
const prefix = `sy-bench-enc-${process.pid}`
const keys = staticKeys({ current: 'bench', keys: { bench: randomBytes(32) } })
const data = { employee_id: 'emp_123', note: 'x'.repeat(960) }
const passThrough = {
  name: 'pass',
  publish: (_ctx, next) => next(),
  handle: (_ctx, next) => next(),
}

const variants = {
  plain: [],
  'pass-through': [passThrough],
  encryption: [encryption(keys)],
}

async function run({ transport, middleware, count, topic }) {
  const bus = createEventBus({ transport, source: 'bench', middleware, logger: silentLogger })
  let handled = 0
  let finish
  const done = new Promise((resolve) => {
    finish = resolve
  })
  await bus.subscribe(
    topic,
    () => {
      if (++handled === count) finish()
    },
    { concurrency: 64, prefetch: 1_000, startAt: 'earliest' },
  )
  const chunk = Array.from({ length: 500 }, () => ({ type: 'employee.created', data }))
  const started = performance.now()
  for (let sent = 0; sent < count; sent += chunk.length) await bus.publishBatch(topic, chunk)
  await done
  const seconds = (performance.now() - started) / 1_000
  await bus.close()
  return count / seconds
}

/** Best of `runs`, each variant in turn per round so drift hits them alike. */
async function compare(make, count, runs) {
  const best = { plain: 0, 'pass-through': 0, encryption: 0 }
  for (let round = 0; round < runs; round++) {
    for (const [name, middleware] of Object.entries(variants)) {
      const topic = `enc-${name}-${round}-${Math.random().toString(36).slice(2, 8)}`
      best[name] = Math.max(best[name], await run({ transport: make(), middleware, count, topic }))
    }
  }
  return best
}

function reportRows(report, label, best) {
  report({
    scenario: `${label} publish->handle with encryption(), ~1 KB JSON`,
    unit: 'events/s',
    ours: best.encryption,
    raw: best.plain,
    rawLabel: 'same bus, no middleware',
  })
  report({
    scenario: `${label} publish->handle with encryption(), vs a pass-through middleware`,
    unit: 'events/s',
    ours: best.encryption,
    raw: best['pass-through'],
    rawLabel: 'same bus, pass-through middleware',
  })
}

async function redisUp() {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.ping()
    return client
  } catch {
    client.disconnect()
    return undefined
  }
}

export default async function bench({ report, quick }) {
  const runs = quick ? 2 : 3
  reportRows(
    report,
    'memory',
    await compare(() => memoryTransport(), quick ? 20_000 : 100_000, runs),
  )
  const client = await redisUp()
  if (client === undefined) {
    console.log(`  redis: skipped, nothing answers at ${url}`)
    return
  }
  try {
    const best = await compare(
      () => redisTransport({ url, keyPrefix: prefix }),
      quick ? 5_000 : 20_000,
      runs,
    )
    reportRows(report, 'redis', best)
  } finally {
    const keys = await client.keys(`{${prefix}:*`)
    if (keys.length > 0) await client.unlink(...keys)
    client.disconnect()
  }
}
