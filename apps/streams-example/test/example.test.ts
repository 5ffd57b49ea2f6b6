import { memoryTransport } from '@switchyard/adapter-memory'
import { redisTransport } from '@switchyard/adapter-redis'
import { createEventBus, type EventBus, type EventEnvelope, silentLogger } from '@switchyard/core'
import { memoryStore, redisStore, type StateStore } from '@switchyard/streams'
import { serviceOrSkip } from '@switchyard/testkit'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { runExample } from '../src/example.js'

const REDIS_URL = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379'
const redisSkip = await serviceOrSkip('Redis', async () => {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 })
  probe.on('error', () => undefined)
  try {
    await probe.connect()
    await probe.ping()
  } finally {
    probe.disconnect()
  }
})

const hourly = (e: EventEnvelope) =>
  `${e.extensions?.streamkey} ${e.extensions?.windowstart?.slice(11, 16)}-${e.extensions?.windowend?.slice(11, 16)} ${e.data}`

async function check(bus: EventBus, store: StateStore) {
  const results = await runExample(bus, store)
  expect(results.hourly.map(hourly).sort()).toEqual([
    'eng 09:00-10:00 4',
    'eng 10:00-11:00 2',
    'sales 09:00-10:00 1',
    'sales 10:00-11:00 1',
  ])
  expect(results.hourly.every((e) => e.type === 'leave.requests.hourly')).toBe(true)
  expect(results.late.map((e) => e.time)).toEqual(['2026-03-02T09:40:00.000Z'])
  expect(
    results.alerts
      .map((e) => e.data)
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
  ).toEqual([
    { employee_id: 'e2', deadline: '2026-03-04T10:00:00.000Z' },
    { employee_id: 'e3', deadline: '2026-03-04T11:00:00.000Z' },
  ])
  expect(
    results.durations
      .map((e) => e.data)
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
  ).toEqual([
    { execution_id: 'x1', duration_ms: 42_000 },
    { execution_id: 'x2', duration_ms: 240_000 },
  ])
}

describe('streams example', () => {
  it('example - leave per department per hour, employees without an asset, execution durations (memory)', async () => {
    const bus = createEventBus({
      transport: memoryTransport(),
      source: 'streams-example',
      logger: silentLogger,
    })
    try {
      await check(bus, memoryStore())
    } finally {
      await bus.close()
    }
  })

  it.skipIf(redisSkip !== undefined)(
    `example - the same results on Redis with state in Redis${redisSkip ? ` (skipped: ${redisSkip})` : ''}`,
    { timeout: 60_000 },
    async () => {
      const prefix = `syexample_${Math.random().toString(36).slice(2, 8)}`
      const client = new Redis(REDIS_URL)
      const bus = createEventBus({
        transport: redisTransport({ url: REDIS_URL, keyPrefix: prefix }),
        source: 'streams-example',
        logger: silentLogger,
      })
      try {
        await check(bus, redisStore({ client, keyPrefix: `${prefix}:state` }))
      } finally {
        await bus.close()
        const keys = await client.keys(`${prefix}*`)
        if (keys.length > 0) await client.unlink(...keys)
        client.disconnect()
      }
    },
  )
})
