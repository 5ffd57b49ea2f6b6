import { execFile } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createEventBus, type EventBus, exponential, type Logger } from '@switchyard/core'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import { ConfigResourceTypes } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { kafkaTransport } from '../src/index.js'
import { FAST, probe, rawClient } from './helpers.js'

// A three-broker KRaft cluster of the test's own (tooling/cluster/kafka.sh): replication factor
// 3, min.insync.replicas=2, and the adapter's default acks=all. The leader of partition 0 is
// SIGKILLed a third of the way into 10 000 events; the other two go on storing and delivering
// (checked before it returns), and it is brought back on its data two thirds of the way in.
const run = promisify(execFile)
const SCRIPT = new URL('../../../tooling/cluster/kafka.sh', import.meta.url).pathname

/** Runs the script on a cluster of its own: a new state directory per call of this function. */
function ownCluster(): (...args: string[]) => Promise<string> {
  const env = {
    ...process.env,
    CLUSTER_DIR: mkdtempSync(join(tmpdir(), 'sy-kafka-cluster-')),
    CLUSTER_WAIT_SECONDS: '150',
  }
  return (...args) =>
    run('bash', [SCRIPT, ...args], { env, timeout: 200_000 }).then(({ stdout }) => stdout.trim())
}

// The shared broker answering says the jars and Java are here; the test runs brokers of its own.
const skip = await serviceOrSkip('Kafka', () => probe())

const EVENTS = 10_000
// The bus rides out a failover itself: up to 10 attempts over about 11 s (the default, 3 attempts
// over 0.3 s, gives up while a new leader is being chosen).
const FAILOVER_RETRY = { maxAttempts: 10, backoff: exponential({ baseMs: 100, maxMs: 2_000 }) }
const BATCH = 100

/** The replicas of each partition of `topic`, the leader of partition 0, and its min.insync.replicas. */
async function layout(brokers: string, topic: string) {
  const admin = rawClient(brokers, 5).admin()
  await admin.connect()
  try {
    const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics
    const { resources } = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
      includeSynonyms: false,
    })
    const minIsr = resources[0]?.configEntries.find((e) => e.configName === 'min.insync.replicas')
    const partitions = meta?.partitions ?? []
    return {
      replicas: partitions.map((p) => p.replicas.length),
      leader: partitions.find((p) => p.partitionId === 0)?.leader ?? -1,
      minIsr: minIsr?.configValue,
    }
  } finally {
    await admin.disconnect()
  }
}

describe.skipIf(skip !== undefined)('kafka adapter (3-broker cluster)', () => {
  it('cluster - a partition leader SIGKILLed mid-stream of 10 000 events and brought back: none lost with acks=all', async () => {
    const cluster = ownCluster()
    let brokers = ''
    const make = () => kafkaTransport({ brokers, ...FAST, replicationFactor: 3, partitions: 3 })
    const buses: EventBus[] = []
    // What the buses and transports log (retries, reconnects) is counted and summed up, not printed.
    const warnings: string[] = []
    const note = (_fields: Record<string, unknown>, message = '') => void warnings.push(message)
    const logger: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: note,
      error: note,
    }
    const bus = async () => {
      const b = createEventBus({
        source: 'cluster-test',
        transport: make(),
        logger,
        publishRetry: FAILOVER_RETRY,
      })
      buses.push(b)
      await b.connect()
      return b
    }
    try {
      brokers = await cluster('start')
      const topic = `sy.cluster.${Math.random().toString(36).slice(2, 8)}`
      const producer = await bus()
      const consumer = await bus()
      const seen = new Set<string>()
      let deliveries = 0
      await consumer.subscribe(
        topic,
        (event) => {
          deliveries++
          seen.add(event.id)
        },
        { group: 'cluster', concurrency: 16, retry: { maxAttempts: 100 }, startAt: 'earliest' },
      )
      const before = await layout(brokers, topic)
      expect(before.replicas).toEqual([3, 3, 3])
      expect(before.minIsr).toBe('2')
      const sent: string[] = []
      let publishRetries = 0
      let victim = -1
      let revived: Promise<unknown> = Promise.resolve()
      const started = Date.now()
      for (let batch = 0; batch < EVENTS / BATCH; batch++) {
        if (batch === 33) {
          victim = (await layout(brokers, topic)).leader
          await cluster('kill', String(victim))
        }
        if (batch === 66) {
          // Two brokers are an in-sync majority: all sent so far arrives before the third is back.
          await waitUntil(() => sent.every((id) => seen.has(id)), {
            timeoutMs: 90_000,
            message: `the events published while broker ${victim} was down, delivered by the other two`,
            describe: () =>
              `${sent.filter((id) => !seen.has(id)).length} of ${sent.length} missing`,
          })
          // Not awaited: publishing goes on while the broker starts again.
          revived = cluster('start')
        }
        const events = Array.from({ length: BATCH }, (_, i) => ({
          type: 'cluster.event',
          id: `${topic}-${batch}-${i}`,
          partitionkey: `k${i % 10}`,
          data: { batch, i },
        }))
        for (;;) {
          try {
            await producer.publishBatch(topic, events)
            break
          } catch {
            // Leaders move for a moment: a real service retries; the same ids count duplicates.
            publishRetries++
            await new Promise((resolve) => setTimeout(resolve, 100))
          }
        }
        sent.push(...events.map((e) => e.id))
      }
      await revived
      await waitUntil(() => seen.size >= EVENTS, {
        timeoutMs: 90_000,
        message: `${EVENTS} events through a broker loss`,
        describe: () => `${seen.size} of ${EVENTS} seen`,
      })
      const lost = sent.filter((id) => !seen.has(id)).length
      const duplicates = deliveries - seen.size
      console.info(
        `[cluster:kafka] ${EVENTS} events, RF 3, min ISR 2, acks=all, partition-0 leader (broker ${victim}) SIGKILLed at 1/3 and back at 2/3: lost ${lost}, duplicates ${duplicates}, publish retries ${publishRetries}, ${Date.now() - started} ms; ${warnings.length} warnings logged${warnings.length > 0 ? `, the first: ${warnings[0]}` : ''}`,
      )
      expect(lost).toBe(0)
      expect(seen).toEqual(new Set(sent))
    } finally {
      await Promise.allSettled(buses.map((b) => b.close({ timeoutMs: 5_000 })))
      await cluster('destroy')
    }
  }, 300_000)
})
