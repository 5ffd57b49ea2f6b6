// Redis Streams through the bus, beside raw ioredis doing the same work in the same run:
// publish (pipelined XADD), consume (XREADGROUP COUNT 100 + one XACK per batch) and end-to-end
// latency at fixed loads. 1 KB events. Publish and consume also report the client's CPU time per
// event (user + system, `process.cpuUsage`) on both sides. Reads SWITCHYARD_REDIS_URL (default
// redis://127.0.0.1:6379).
import { randomUUID } from 'node:crypto'
import { redisTransport, topicKeys } from '@switchyard/adapter-redis'
import { createEventBus } from '@switchyard/core'
import { Redis } from 'ioredis'
import {
  bestOfRounds,
  collected,
  cpuPerEvent,
  cpuRow as cpuRowOf,
  firstToLast,
  inTurns,
  now,
  summary,
  windowed,
} from '../../../tooling/bench/pacing.mjs'

const url = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379'
const prefix = `sy-bench-${Math.random().toString(36).slice(2, 8)}`
const data = { employee_id: 'emp_123', note: 'x'.repeat(1_000 - 40) }
let topics = 0
const nextTopic = (label) => `bench.${label}.${++topics}`
const streamOf = (topic) => topicKeys(prefix, topic).stream

// The entry a CloudEvents producer writes for one event: what the bus writes, built by hand.
function rawFields(payload = data) {
  const fields = {
    ce_specversion: '1.0',
    ce_id: randomUUID(),
    ce_source: 'bench',
    ce_type: 'employee.created',
    ce_time: new Date().toISOString(),
    'content-type': 'application/json',
    data: JSON.stringify(payload),
  }
  return Object.entries(fields).flat()
}

/** What a CloudEvents consumer does with an entry: reads the attributes, parses the data. */
function rawHandle(fields) {
  const attributes = {}
  for (let i = 0; i + 1 < fields.length; i += 2) attributes[fields[i]] = fields[i + 1]
  return { attributes, data: JSON.parse(attributes.data) }
}

const bus = (source) =>
  createEventBus({ transport: redisTransport({ url, keyPrefix: prefix }), source })

async function busPublish(count, window, cpu) {
  const producer = bus('bench')
  await producer.connect()
  const topic = nextTopic('publish')
  const rate = await cpuPerEvent(cpu, count, () =>
    windowed(count, window, () => producer.publish(topic, { type: 'employee.created', data })),
  )
  await producer.close()
  return rate
}

async function rawPublish(client, count, window, cpu) {
  const stream = streamOf(nextTopic('publish-raw'))
  return cpuPerEvent(cpu, count, async () => {
    const started = performance.now()
    for (let sent = 0; sent < count; sent += window) {
      const pipeline = client.pipeline()
      for (let i = 0; i < window; i++) pipeline.xadd(stream, '*', ...rawFields())
      await pipeline.exec()
    }
    return count / ((performance.now() - started) / 1_000)
  })
}

async function fill(client, topic, count) {
  const stream = streamOf(topic)
  for (let sent = 0; sent < count; sent += 1_000) {
    const pipeline = client.pipeline()
    for (let i = 0; i < 1_000; i++) pipeline.xadd(stream, '*', ...rawFields())
    await pipeline.exec()
  }
}

async function busConsume(client, count, prefetch, cpu) {
  const topic = nextTopic('consume')
  await fill(client, topic, count)
  const consumer = bus('bench')
  // From the first event handled to the last, on both sides: creating the group is setup (the
  // raw side creates its group before its clock starts, too).
  const clock = firstToLast(count)
  await cpuPerEvent(cpu, count, async () => {
    await consumer.subscribe(topic, () => clock.tick(), {
      group: 'bench',
      startAt: 'earliest',
      concurrency: 64,
      prefetch,
    })
    await clock.done
  })
  const rate = clock.rate
  await consumer.close()
  return rate
}

/** The same consume with a batch handler of up to 100 events, raw's XREADGROUP COUNT. */
async function busBatchConsume(client, count) {
  const topic = nextTopic('consume-batch')
  await fill(client, topic, count)
  const consumer = bus('bench')
  const clock = firstToLast(count)
  await consumer.subscribe(
    topic,
    (events) => {
      for (let i = 0; i < events.length; i++) clock.tick()
    },
    { group: 'bench', startAt: 'earliest', batch: { maxSize: 100, maxWaitMs: 5 }, concurrency: 4 },
  )
  await clock.done
  const rate = clock.rate
  await consumer.close()
  return rate
}

async function rawConsume(client, count, cpu) {
  const topic = nextTopic('consume-raw')
  await fill(client, topic, count)
  const stream = streamOf(topic)
  await client.xgroup('CREATE', stream, 'bench', '0', 'MKSTREAM')
  const reader = client.duplicate()
  await reader.ping()
  let handled = 0
  let first = 0
  globalThis.gc?.()
  const cpuStart = process.cpuUsage()
  while (handled < count) {
    const reply = await reader.xreadgroup(
      'GROUP',
      'bench',
      'c1',
      'COUNT',
      100,
      'BLOCK',
      1_000,
      'STREAMS',
      stream,
      '>',
    )
    const entries = reply?.[0]?.[1] ?? []
    // Same work as a CloudEvents handler receiving events: attributes read, data parsed.
    for (const [, fields] of entries) rawHandle(fields)
    if (handled === 0 && entries.length > 0) first = performance.now()
    if (entries.length > 0) await client.xack(stream, 'bench', ...entries.map(([id]) => id))
    handled += entries.length
  }
  const rate = (count - 1) / ((performance.now() - first) / 1_000)
  const used = process.cpuUsage(cpuStart)
  cpu.push((used.user + used.system) / count)
  reader.disconnect()
  return rate
}

/**
 * End-to-end latency (publish call -> handler) at a fixed rate, ours and raw in alternating
 * turns of 0.1 s (`inTurns`), so load from the rest of the machine hits both alike.
 */
async function latency(client, rate, seconds) {
  const rawStream = streamOf(nextTopic('latency-raw'))
  await client.xgroup('CREATE', rawStream, 'bench', '$', 'MKSTREAM')
  const reader = client.duplicate()
  const raw = []
  let stop = false
  const reading = (async () => {
    while (!stop) {
      const reply = await reader.xreadgroup(
        ...['GROUP', 'bench', 'c1', 'COUNT', 100, 'BLOCK', 100, 'STREAMS', rawStream, '>'],
      )
      const entries = reply?.[0]?.[1] ?? []
      for (const [, fields] of entries) raw.push(now() - JSON.parse(fields.at(-1)).sentAt)
      if (entries.length > 0) void client.xack(rawStream, 'bench', ...entries.map(([id]) => id))
    }
  })()
  const topic = nextTopic('latency')
  const producer = bus('bench')
  const consumer = bus('bench')
  const ours = []
  await consumer.subscribe(topic, (event) => void ours.push(now() - event.data.sentAt), {
    group: 'bench',
    concurrency: 16,
  })
  await producer.connect()
  const total = await inTurns(rate, seconds, [
    (sentAt) => client.xadd(rawStream, '*', ...rawFields({ ...data, sentAt })),
    (sentAt) => producer.publish(topic, { type: 'employee.created', data: { ...data, sentAt } }),
  ])
  await collected([raw, ours], total)
  stop = true
  await reading
  reader.disconnect()
  await Promise.all([producer.close(), consumer.close()])
  return { raw: summary(raw), ours: summary(ours) }
}

const RAW_CONSUME =
  'ioredis XREADGROUP COUNT 100 + one XACK per batch + ce_* fields read + JSON.parse'

/** A row of client CPU per event, ours beside raw ioredis (µs). */
const cpuRow = (scenario, cpu) =>
  cpuRowOf({
    scenario,
    ours: cpu.ours,
    other: cpu.raw,
    rawLabel: 'raw ioredis doing the same CloudEvents work, as above',
    target: '<= 1.5x raw',
  })

async function cleanup(client) {
  let cursor = '0'
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `{${prefix}:*`, 'COUNT', 1_000)
    cursor = next
    if (keys.length > 0) await client.unlink(...keys)
  } while (cursor !== '0')
}

export default async function bench({ report, quick }) {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.ping()
  } catch (error) {
    console.log(
      `  skipped: Redis is not reachable at ${url} (${error.message}); run tooling/services/redis.sh`,
    )
    client.disconnect()
    return
  }
  try {
    const count = quick ? 10_000 : 20_000
    const rounds = quick ? 3 : 8
    for (const window of [100, 1_000]) {
      const cpu = { raw: [], ours: [] }
      const { raw, ours } = await bestOfRounds(rounds, {
        raw: () => rawPublish(client, count, window, cpu.raw),
        ours: () => busPublish(count, window, cpu.ours),
      })
      report({
        scenario: `redis publish, 1 KB events, ${window} in flight`,
        unit: 'events/s',
        ours,
        raw,
        rawLabel: `ioredis pipelined XADD, ${window} per pipeline`,
        higherIsBetter: true,
        target: '>= 0.9x raw',
      })
      report(cpuRow(`redis publish client CPU per event, 1 KB events, ${window} in flight`, cpu))
    }
    // Raw reads 100 per XREADGROUP. The bus reads what its prefetch has room for: once with a
    // prefetch of 400 (a tuned consumer), once with 100 (raw's batch size).
    const cpu = { raw: [], ours: [] }
    const best = await bestOfRounds(rounds, {
      raw: () => rawConsume(client, count, cpu.raw),
      400: () => busConsume(client, count, 400, cpu.ours),
      100: () => busConsume(client, count, 100, []),
      batch: () => busBatchConsume(client, count),
    })
    report({
      scenario: 'redis batch consume, 1 KB events, batch handler of up to 100',
      unit: 'events/s',
      ours: best.batch,
      raw: best.raw,
      rawLabel: RAW_CONSUME,
      higherIsBetter: true,
      target: '>= 0.9x raw',
    })
    for (const prefetch of [400, 100]) {
      report({
        scenario: `redis consume, 1 KB events, bus prefetch ${prefetch}`,
        unit: 'events/s',
        ours: best[prefetch],
        raw: best.raw,
        rawLabel: RAW_CONSUME,
        higherIsBetter: true,
        target: '>= 0.9x raw',
      })
    }
    report(cpuRow('redis consume client CPU per event, 1 KB events, bus prefetch 400', cpu))
    for (const rate of [500, 2_000]) {
      // 15 s per side: p99 rests on ~70 samples per run at 500/s, not one stall in a slice.
      const seconds = quick ? 2 : 15
      const { raw: rawLat, ours: ourLat } = await latency(client, rate, seconds)
      const label = `ioredis XADD at ${rate}/s -> XREADGROUP BLOCK + XACK`
      report({
        scenario: `redis end-to-end latency p50 at ${rate} events/s`,
        unit: 'ms',
        ours: ourLat.p50,
        raw: rawLat.p50,
        rawLabel: label,
        higherIsBetter: false,
        target: '<= raw + 0.2 ms',
      })
      report({
        scenario: `redis end-to-end latency p99 at ${rate} events/s`,
        unit: 'ms',
        ours: ourLat.p99,
        raw: rawLat.p99,
        rawLabel: label,
        higherIsBetter: false,
        target: '<= 1.5x raw',
      })
    }
  } finally {
    await cleanup(client)
    client.disconnect()
  }
}
