// The one seam between the adapter and its Kafka client. Everything else in the package talks
// to these few shapes, which are the KafkaJS API subset the adapter uses; another client with
// a KafkaJS-compatible API (such as @confluentinc/kafka-javascript's `KafkaJS` export) can be
// slotted in by providing them.

import { errorFields, type Logger } from '@switchyard/core/transport'
import kafkajs, {
  type Admin,
  AssignerProtocol,
  type Consumer,
  type EachBatchPayload,
  Kafka,
  logLevel as KafkaLogLevel,
  type KafkaMessage,
  type PartitionAssigner,
  Partitioners,
  type PartitionMetadata,
  type Producer,
  type SASLOptions,
} from 'kafkajs'
import type { KafkaClientLike, ResolvedKafkaOptions } from './options.js'

/** A record as produced. */
export interface RecordOut {
  key: Buffer | string | null
  /** Bytes, or text that kafkajs writes as UTF-8. */
  value: Buffer | string | null
  headers: Record<string, string>
  /** Set by the transport for every record, so the batcher can size requests per partition. */
  partition?: number
}

/** A record as fetched. */
export type RecordIn = KafkaMessage

/** One fetched batch of one partition, as handed to `eachBatch`. */
export type BatchPayload = Pick<
  EachBatchPayload,
  'batch' | 'resolveOffset' | 'heartbeat' | 'isRunning' | 'isStale'
>

/** The producer calls the adapter makes. */
export type ProducerLike = Pick<Producer, 'connect' | 'disconnect' | 'sendBatch'>

/** The consumer calls the adapter makes. */
export type ConsumerLike = Pick<
  Consumer,
  'connect' | 'disconnect' | 'subscribe' | 'run' | 'commitOffsets' | 'seek' | 'on' | 'events'
>

/** A Kafka transaction, as a kafkajs transactional producer opens it. */
export interface TransactionLike {
  sendBatch(batch: {
    acks: number
    topicMessages: Array<{ topic: string; messages: RecordOut[] }>
  }): Promise<unknown>
  sendOffsets(offsets: {
    consumerGroupId: string
    topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>
  }): Promise<void>
  commit(): Promise<void>
  abort(): Promise<void>
}

/** A transactional producer: idempotent, one transaction at a time. */
export interface TransactionalProducerLike {
  connect(): Promise<void>
  disconnect(): Promise<void>
  transaction(): Promise<TransactionLike>
}

/** The admin calls the adapter makes. */
export type AdminLike = Admin

// Protocol answers kafkajs logs as errors although they are routine and handled: rebalances,
// a coordinator moving or loading, a topic that already exists or is still being placed.
const ROUTINE =
  /rebalanc|not the correct coordinator|coordinator is (loading|not available)|generation id is not valid|topic creation errors|does not host this topic-partition|not the leader for that topic-partition/i

/**
 * Whether kafkajs can compress with this codec (its `CompressionTypes` number). gzip is built
 * in; snappy, lz4 and zstd are placeholders that throw until a codec package replaces them.
 */
export function hasCompressionCodec(code: number): boolean {
  // Read off the default export: Node's ESM loader does not see this one as a named export of
  // the CommonJS kafkajs module.
  const codecs = kafkajs.CompressionCodecs as Record<number, (() => unknown) | undefined>
  const codec = codecs[code]
  if (codec === undefined) return code === 0
  try {
    codec()
    return true
  } catch {
    return false
  }
}

/**
 * The partition of a keyed record, as the producer's (Java-compatible murmur2) partitioner
 * picks it, so the batcher can size requests per partition before kafkajs sees them.
 */
export function keyedPartitioner(): (topic: string, key: Buffer | string, count: number) => number {
  const pick = Partitioners.DefaultPartitioner()
  const layouts = new Map<number, PartitionMetadata[]>()
  return (topic, key, count) => {
    let partitionMetadata = layouts.get(count)
    if (partitionMetadata === undefined) {
      partitionMetadata = Array.from({ length: count }, (_, partitionId) => ({
        partitionErrorCode: 0,
        partitionId,
        leader: 0,
        replicas: [0],
        isr: [0],
      }))
      layouts.set(count, partitionMetadata)
    }
    return pick({ topic, partitionMetadata, message: { key, value: null } })
  }
}

/**
 * Gives every record its partition, known before kafkajs sees it so the batcher can size
 * requests per partition: keyed ones where kafkajs's partitioner puts them, keyless ones round
 * robin per topic from a random start.
 */
export function partitionSpreader(): (
  topic: string,
  records: RecordOut[],
  partitions: number,
) => RecordOut[] {
  const keyed = keyedPartitioner()
  const nextPartition = new Map<string, number>()
  return (topic, records, partitions) => {
    let next = nextPartition.get(topic) ?? Math.floor(Math.random() * partitions)
    for (const record of records) {
      if (record.key !== null) {
        record.partition = keyed(topic, record.key, partitions)
        continue
      }
      record.partition = next
      next = (next + 1) % partitions
    }
    nextPartition.set(topic, next)
    return records
  }
}

/** Builds a kafkajs client from resolved options; its log lines go to `logger()` as they come. */
export function createClient(options: ResolvedKafkaOptions, logger: () => Logger): KafkaClientLike {
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    ssl: options.ssl,
    ...(options.sasl === undefined ? {} : { sasl: options.sasl as SASLOptions }),
    retry: { retries: options.retries, initialRetryTime: 200, maxRetryTime: 5_000 },
    logLevel: KafkaLogLevel[options.logLevel.toUpperCase() as 'ERROR'],
    logCreator: () => (entry) => {
      const message = String(entry.log.message ?? '')
      const error = String((entry.log as { error?: unknown }).error ?? '')
      if (entry.level <= KafkaLogLevel.ERROR && (ROUTINE.test(message) || ROUTINE.test(error)))
        return
      // Named fields only: kafkajs puts stacks and whole requests in its entries too.
      const { broker, retryCount, groupId, topic } = entry.log as Record<string, unknown>
      const fields: Record<string, unknown> = { namespace: entry.namespace }
      for (const [k, v] of Object.entries({ broker, retryCount, groupId, topic }))
        if (v !== undefined) fields[k] = v
      if (error) Object.assign(fields, errorFields(new Error(error)))
      const line = `kafka: ${message}${error ? `: ${error}` : ''}`
      if (entry.level <= KafkaLogLevel.WARN) logger().warn(fields, line)
      else if (entry.level === KafkaLogLevel.INFO) logger().info(fields, line)
      else logger().debug(fields, line)
    },
  })
}

/**
 * The producer: the Java-compatible partitioner, no implicit topic creation, and no retries of
 * its own: the bus retries a failed publish (`publishRetry`), so there is one policy. (kafkajs
 * refuses an idempotent producer without retries; the transport sends one request at a time.)
 */
export function createProducer(client: KafkaClientLike): ProducerLike {
  return client.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: 0 },
  }) as ProducerLike
}

/**
 * A transactional producer for exactly-once subscriptions: idempotent, one request in flight,
 * and retries of its own, which idempotence makes safe inside a transaction.
 */
export function createTransactionalProducer(
  client: KafkaClientLike,
  transactionalId: string,
): TransactionalProducerLike {
  return client.producer({
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  }) as TransactionalProducerLike
}

/**
 * A group consumer with the transport's settings and a subscription-aware assigner; `browse`:
 * a short-lived reader (dead-letter listing) that joins fast and waits little at the log's end.
 */
export function createConsumer(
  client: KafkaClientLike,
  groupId: string,
  options: ResolvedKafkaOptions,
  browse = false,
): ConsumerLike {
  const { heartbeatIntervalMs, sessionTimeoutMs, rebalanceTimeoutMs, retries } = options
  return client.consumer({
    groupId,
    sessionTimeout: browse ? Math.max(6_000, heartbeatIntervalMs * 3) : sessionTimeoutMs,
    heartbeatInterval: heartbeatIntervalMs,
    rebalanceTimeout: browse ? 10_000 : rebalanceTimeoutMs,
    maxWaitTimeInMs: browse ? 100 : options.maxWaitTimeMs,
    maxBytesPerPartition: options.fetchMaxBytesPerPartition,
    maxBytes: options.fetchMaxBytes,
    allowAutoTopicCreation: false,
    partitionAssigners: [subscriptionRoundRobin],
    retry: { retries, initialRetryTime: 200, maxRetryTime: 5_000 },
  } as { groupId: string }) as ConsumerLike
}

/** The admin client. */
export function createAdmin(client: KafkaClientLike): AdminLike {
  return client.admin() as AdminLike
}

/**
 * Round robin that honours each member's own subscription. kafkajs's built-in assigner hands
 * every topic to every member, which starves members when one group id spans several topics
 * (Switchyard groups are per topic, so `group: 'audit'` on two topics is one Kafka group).
 */
export const subscriptionRoundRobin: PartitionAssigner = ({ cluster }) => ({
  name: 'SwitchyardRoundRobin',
  version: 0,
  async assign({ members }) {
    const wanted = members.map((m) => ({
      id: m.memberId,
      topics: AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.topics ?? [],
    }))
    const topics = [...new Set(wanted.flatMap((w) => w.topics))].sort()
    await cluster.addMultipleTargetTopics(topics)
    const plan = new Map<string, Record<string, number[]>>(wanted.map((w) => [w.id, {}]))
    const load = new Map<string, number>(wanted.map((w) => [w.id, 0]))
    let turn = 0
    for (const topic of topics) {
      const owners = wanted
        .filter((w) => w.topics.includes(topic))
        .map((w) => w.id)
        .sort()
      const partitions = cluster
        .findTopicPartitionMetadata(topic)
        .map((p) => p.partitionId)
        .sort((a, b) => a - b)
      for (const partition of partitions) {
        // The least-loaded subscriber of this topic; ties rotate so no member is always first.
        let owner = owners[turn++ % owners.length]!
        for (const candidate of owners)
          if (load.get(candidate)! < load.get(owner)!) owner = candidate
        load.set(owner, load.get(owner)! + 1)
        const assignment = plan.get(owner)!
        assignment[topic] = [...(assignment[topic] ?? []), partition]
      }
    }
    return [...plan].map(([memberId, assignment]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 0,
        assignment,
        userData: Buffer.alloc(0),
      }),
    }))
  },
  protocol({ topics }) {
    return {
      name: 'SwitchyardRoundRobin',
      metadata: AssignerProtocol.MemberMetadata.encode({
        version: 0,
        topics,
        userData: Buffer.alloc(0),
      }),
    }
  },
})
