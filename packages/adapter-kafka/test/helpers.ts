import { Kafka, logLevel } from 'kafkajs'
import type { KafkaTransportOptions } from '../src/index.js'

/** The shared broker of the test run (tooling/services/kafka.sh starts it). */
export const BROKERS = process.env.SWITCHYARD_KAFKA_BROKERS ?? '127.0.0.1:9092'

/**
 * Tight group settings so joins and rebalances take tenths of a second in tests; the broker
 * is started with group.initial.rebalance.delay.ms=0 and allows short sessions.
 */
export const FAST: KafkaTransportOptions = {
  heartbeatIntervalMs: 150,
  sessionTimeoutMs: 6_000,
  rebalanceTimeoutMs: 10_000,
  maxWaitTimeMs: 100,
  commitIntervalMs: 100,
  retries: 3,
  // SWITCHYARD_KAFKA_LOG=warn (or info, debug) shows kafkajs's own log when a test misbehaves.
  logLevel: (process.env.SWITCHYARD_KAFKA_LOG as KafkaTransportOptions['logLevel']) ?? 'nothing',
}

/** A bare kafkajs client, for probing and preparing topics the way an operator would. */
export function rawClient(brokers = BROKERS, retries = 2): Kafka {
  return new Kafka({
    clientId: 'switchyard-tests',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    retry: { retries, initialRetryTime: 100, maxRetryTime: 1_000 },
  })
}

/** Resolves when the broker answers a metadata request; rejects fast when it does not. */
export async function probe(brokers = BROKERS): Promise<void> {
  const admin = rawClient(brokers, 0).admin()
  try {
    await admin.connect()
    await admin.describeCluster()
  } finally {
    await admin.disconnect()
  }
}

/** Creates topics with `partitions` partitions (existing ones are left alone) and waits for leaders. */
export async function createTopics(
  topics: string[],
  partitions = 3,
  brokers = BROKERS,
): Promise<void> {
  const admin = rawClient(brokers).admin()
  try {
    await admin.connect()
    await admin.createTopics({
      topics: topics.map((topic) => ({ topic, numPartitions: partitions })),
      waitForLeaders: false,
    })
    const deadline = Date.now() + 15_000
    for (;;) {
      try {
        const { topics: found } = await admin.fetchTopicMetadata({ topics })
        if (
          found.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))
        ) {
          // Leaders known; ListOffsets succeeds once the partitions are really hosted.
          for (const topic of topics) await admin.fetchTopicOffsets(topic)
          return
        }
      } catch {
        // UNKNOWN_TOPIC_OR_PARTITION / NOT_LEADER until the new topics are fully hosted.
      }
      if (Date.now() > deadline)
        throw new Error(`topics ${topics.join(', ')} have no leaders after 15 s`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  } finally {
    await admin.disconnect()
  }
}
