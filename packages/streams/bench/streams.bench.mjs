// Keyed tumbling count (10 keys, 1 s windows, events 1 ms apart in event time) through
// @switchyard/streams, beside (1) a hand-written handler doing the same counting on the same
// memory bus, and (2) Kafka Streams (tooling/kafka-streams, a Java app on the kafka-streams jar)
// doing the same windowed count on the same Kafka topic in the same run. Rates are events/s from
// the first event taken to the last, so JVM start and group joins are left out on both sides.
// Reads SWITCHYARD_KAFKA_BROKERS (default 127.0.0.1:9092) and SWITCHYARD_REDIS_URL.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { kafkaTransport } from '@switchyard/adapter-kafka'
import { memoryTransport } from '@switchyard/adapter-memory'
import { createEventBus, silentLogger } from '@switchyard/core'
import { memoryStore, redisStore, stream, tumbling } from '@switchyard/streams'
import { Redis } from 'ioredis'

const brokers = process.env.SWITCHYARD_KAFKA_BROKERS ?? '127.0.0.1:9092'
const redisUrl = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379'
const KEYS = 10
const WINDOW_MS = 1_000
const GRACE_MS = 500
const T0 = Date.UTC(2026, 0, 1)
const run = Math.random().toString(36).slice(2, 8)
const SUBSCRIBE = { concurrency: 64, prefetch: 4_096 }

const input = (i) => ({
  type: 'tick',
  time: new Date(T0 + i).toISOString(),
  partitionkey: `k${i % KEYS}`,
  data: { i },
})

const waitFor = async (condition, timeoutMs = 300_000) => {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('bench did not finish in time')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

async function publishAll(bus, topic, count) {
  for (let i = 0; i < count; i += 1_000) {
    const batch = Array.from({ length: Math.min(1_000, count - i) }, (_, j) => input(i + j))
    // A topic created a moment ago may not have its partition leaders yet: try again.
    for (let attempt = 1; ; attempt++) {
      try {
        await bus.publishBatch(topic, batch)
        break
      } catch (error) {
        if (attempt === 10) throw error
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
    }
  }
}

/** The same counting, written by hand in a bus handler: per key, per window, emit on close. */
function handWritten(onResult) {
  const keys = new Map()
  return (event) => {
    const t = Date.parse(event.time)
    const key = event.partitionkey
    let k = keys.get(key)
    if (k === undefined) {
      k = { wm: Number.NEGATIVE_INFINITY, windows: new Map() }
      keys.set(key, k)
    }
    if (t > k.wm) k.wm = t
    const start = Math.floor(t / WINDOW_MS) * WINDOW_MS
    if (start + WINDOW_MS + GRACE_MS > k.wm) k.windows.set(start, (k.windows.get(start) ?? 0) + 1)
    for (const [s, n] of k.windows) {
      if (s + WINDOW_MS + GRACE_MS <= k.wm) {
        onResult(key, s, n)
        k.windows.delete(s)
      }
    }
  }
}

export async function memoryRun(count, ours) {
  const bus = createEventBus({
    transport: memoryTransport({ historySize: 0 }),
    source: 'bench',
    logger: silentLogger,
  })
  const topic = `bench.streams.${run}.${ours ? 'ours' : 'raw'}`
  let taken = 0
  let results = 0
  let processor
  if (ours) {
    processor = await stream(bus, topic, {
      group: `count-${run}`,
      store: memoryStore(),
      ...SUBSCRIBE,
    })
      .window(tumbling(WINDOW_MS), { grace: GRACE_MS })
      .count()
      .forEach(() => {
        results++
      })
  } else {
    const count = handWritten(() => {
      results++
    })
    await bus.subscribe(
      topic,
      (event) => {
        count(event)
        taken++
      },
      { group: `count-${run}`, ...SUBSCRIBE },
    )
  }
  const started = performance.now()
  await publishAll(bus, topic, count)
  await waitFor(() => (ours ? processor.stats().events : taken) === count)
  const seconds = (performance.now() - started) / 1_000
  await processor?.close()
  await bus.close()
  return { rate: count / seconds, results }
}

async function kafkaStreamsRun(topic, count) {
  const script = new URL('../../../tooling/kafka-streams/run.sh', import.meta.url).pathname
  const stateDir = mkdtempSync(join(tmpdir(), 'sy-kstreams-'))
  const args = [
    script,
    brokers,
    topic,
    `${topic}.kstreams`,
    `kstreams-${run}`,
    WINDOW_MS,
    GRACE_MS,
    count,
    stateDir,
  ]
  try {
    const output = await new Promise((resolve, reject) => {
      const child = spawn('bash', args.map(String), { stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      let err = ''
      child.stdout.on('data', (c) => {
        out += c
      })
      child.stderr.on('data', (c) => {
        err += c
      })
      child.on('exit', (code) =>
        code === 0
          ? resolve(out)
          : reject(new Error(`kafka-streams exited ${code}: ${err.slice(-2_000)}`)),
      )
    })
    const line = output.trim().split('\n').at(-1)
    const { records, ms } = JSON.parse(line)
    return records / (ms / 1_000)
  } finally {
    rmSync(stateDir, { recursive: true, force: true })
  }
}

async function oursOnKafka(bus, topic, count, store, label) {
  let first
  const processor = await stream(bus, topic, { group: `ours-${label}-${run}`, store, ...SUBSCRIBE })
    .map((event) => {
      first ??= performance.now()
      return event
    })
    .window(tumbling(WINDOW_MS), { grace: GRACE_MS })
    .count()
    .to(`${topic}.ours-${label}`)
  await waitFor(() => processor.stats().events + processor.stats().late === count)
  const seconds = (performance.now() - first) / 1_000
  await processor.close()
  return count / seconds
}

export default async function bench({ report, quick }) {
  const memoryCount = quick ? 50_000 : 200_000
  // Warm both paths once, then measure.
  await memoryRun(10_000, false)
  await memoryRun(10_000, true)
  const raw = await memoryRun(memoryCount, false)
  const ours = await memoryRun(memoryCount, true)
  if (raw.results !== ours.results)
    throw new Error(`results differ: ${raw.results} vs ${ours.results}`)
  report({
    scenario: `memory: keyed tumbling count, ${memoryCount.toLocaleString('en-US')} events, ${KEYS} keys`,
    ours: ours.rate,
    raw: raw.rate,
    rawLabel: 'hand-written handler on the same bus',
    unit: 'events/s',
    target: '>= 0.5x',
  })

  const kafkaCount = quick ? 20_000 : 50_000
  const bus = createEventBus({
    transport: kafkaTransport({
      brokers,
      logLevel: 'nothing',
      partitions: 3,
      heartbeatIntervalMs: 500,
    }),
    source: 'bench',
    logger: silentLogger,
  })
  const redis = new Redis(redisUrl)
  const prefix = `bench:streams:${run}`
  try {
    const topic = `bench.streams.${run}`
    await publishAll(bus, topic, kafkaCount)
    const kstreams = await kafkaStreamsRun(topic, kafkaCount)
    const inMemory = await oursOnKafka(bus, topic, kafkaCount, memoryStore(), 'memory')
    const durable = await oursOnKafka(
      bus,
      topic,
      kafkaCount,
      redisStore({ client: redis, keyPrefix: prefix }),
      'redis',
    )
    const row = (what, rate) =>
      report({
        scenario: `kafka: keyed tumbling count, ${kafkaCount.toLocaleString('en-US')} events, ${what}`,
        ours: rate,
        raw: kstreams,
        rawLabel: 'Kafka Streams 4.4 (RocksDB + changelog), same topic',
        unit: 'events/s',
        target: 'within 2x',
      })
    row('memory state', inMemory)
    row('Redis state', durable)
  } finally {
    await bus.close()
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.unlink(...keys)
    redis.disconnect()
  }
}
