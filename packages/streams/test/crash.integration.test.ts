import { type ChildProcess, spawn } from 'node:child_process'
import type { EventEnvelope } from '@switchyard/core'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { memoryStore, type ProcessorStats, stream, tumbling } from '../src/index.js'
import {
  collect,
  KAFKA_BROKERS,
  kafkaBackend,
  REDIS_URL,
  redisBackend,
  unique,
  until,
} from './backends.js'

// A processor with durable state (Redis) on a real broker (Kafka, 3 partitions) is SIGKILLed
// mid-stream and started again; after dedup by result id its window results must equal those of
// an uninterrupted run over the same topic.
const kafka = await kafkaBackend()
const redis = await redisBackend()
const skip = kafka.skip ?? redis.skip
const TOTAL = 20_000
const KEYS = 20
const WINDOW_MS = 5_000
const GRACE_MS = 2_000
const T0 = Date.UTC(2026, 0, 1)

/** Event i: 100 ms apart, shuffled back by up to 900 ms (inside the grace); every 500th is a minute late. */
function input(run: string, i: number) {
  const late = i % 500 === 499
  const t = T0 + i * 100 - (i % 7) * 150 - (late ? 60_000 : 0)
  const key = `k${i % KEYS}`
  return {
    id: `${run}-${i}`,
    type: 'tick',
    time: new Date(t).toISOString(),
    partitionkey: key,
    data: { i },
  }
}

const signature = (e: EventEnvelope) =>
  `${e.extensions?.streamkey}|${e.extensions?.windowstart}|${e.extensions?.windowend}|${JSON.stringify(e.data)}`

/** True while the child runs; a child that exited on its own fails the test at once. */
function alive(child: ChildProcess): boolean {
  if (child.exitCode !== null)
    throw new Error(`the processor process exited with ${child.exitCode}`)
  return true
}

function startChild(env: Record<string, string>): {
  child: ChildProcess
  stats: () => ProcessorStats | undefined
} {
  const child = spawn(
    process.execPath,
    [new URL('./fixtures/crash-child.mjs', import.meta.url).pathname],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  let last: ProcessorStats | undefined
  let buffer = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString()
    const lines = buffer.split('\n')
    buffer = lines.pop() ?? ''
    const line = lines.at(-1)
    if (line !== undefined && line !== '') last = JSON.parse(line) as ProcessorStats
  })
  return { child, stats: () => last }
}

describe.skipIf(skip !== undefined)(
  `crash - Kafka + Redis state${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    afterAll(async () => {
      await kafka.dispose()
      await redis.dispose()
    })

    it('crash - a processor SIGKILLed mid-stream of 20,000 events and restarted emits the results of an uninterrupted run', {
      timeout: 240_000,
    }, async () => {
      const run = unique('crash')
      const topic = `${run}.in`
      const bus = kafka.bus()
      const children: ChildProcess[] = []
      const prefix = `${run}:state`
      try {
        for (let i = 0; i < TOTAL; i += 1_000) {
          await bus.publishBatch(
            topic,
            Array.from({ length: 1_000 }, (_, j) => input(run, i + j)),
          )
        }

        // The reference: the same windows, uninterrupted, in this process.
        const expected = await collect(bus, `${run}.expected`)
        const reference = await stream(bus, topic, {
          group: `${run}-ref`,
          store: memoryStore(),
          lateTopic: `${run}.late`,
        })
          .window(tumbling(WINDOW_MS), { grace: GRACE_MS })
          .count()
          .to(`${run}.expected`)
        const complete = () => {
          const s = reference.stats()
          return s.events + s.late === TOTAL && expected.events.size === s.results
        }
        await until(complete, 'the uninterrupted run takes every event', undefined, 150_000)
        const referenceStats = reference.stats()
        await reference.close()
        await expected.close()
        const want = [...expected.events.values()].map(signature).sort()
        expect(referenceStats.late).toBe(TOTAL / 500)
        expect(want.length).toBeGreaterThan(300)

        // The crashed run: a child process, killed once it has taken a third of the stream.
        const got = await collect(bus, `${run}.out`)
        const env = {
          CRASH_KAFKA_BROKERS: KAFKA_BROKERS,
          CRASH_REDIS_URL: REDIS_URL,
          CRASH_TOPIC: topic,
          CRASH_OUT: `${run}.out`,
          CRASH_GROUP: `${run}-crash`,
          CRASH_PREFIX: prefix,
          CRASH_WINDOW_MS: String(WINDOW_MS),
          CRASH_GRACE_MS: String(GRACE_MS),
        }
        const first = startChild(env)
        children.push(first.child)
        await until(
          () => alive(first.child) && (first.stats()?.events ?? 0) >= TOTAL / 3,
          'the first processor takes a third',
        )
        first.child.kill('SIGKILL')
        await new Promise((resolve) => first.child.once('exit', resolve))
        const killedAt = first.stats()

        const second = startChild(env)
        children.push(second.child)
        const have = () => [...got.events.values()].map(signature).sort()
        await until(
          () =>
            alive(second.child) &&
            got.events.size >= want.length &&
            JSON.stringify(have()) === JSON.stringify(want),
          'the restarted processor completes the results',
          () =>
            `${got.events.size} of ${want.length} results; killed at ${JSON.stringify(killedAt)}, now ${JSON.stringify(second.stats())}`,
          150_000,
        )
        second.child.kill('SIGTERM')
        await new Promise((resolve) => second.child.once('exit', resolve))
        expect(have()).toEqual(want)
        expect(killedAt?.events ?? 0).toBeLessThan(TOTAL)
        await got.close()
      } finally {
        for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
        await bus.close()
        const client = new Redis(REDIS_URL)
        const keys = await client.keys(`${prefix}*`)
        if (keys.length > 0) await client.unlink(...keys)
        client.disconnect()
      }
    })
  },
)
