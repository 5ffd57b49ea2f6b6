import { checkKeys, checkNumber, checkOneOf } from './options.js'

/** Compression codecs a broker may apply to a topic's stored records. */
export type TopicCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'

/**
 * Broker-side settings of a topic (APG's `streams.yaml` entries), given to `bus.createTopic`.
 * A transport applies the ones its broker has and reports the rest as ignored.
 */
export interface TopicSettings {
  /** Partitions (Kafka). */
  partitions?: number | undefined
  /** Copies of each partition or stream (Kafka replication factor, JetStream replicas). */
  replicationFactor?: number | undefined
  /** How long records are kept, in ms (Kafka `retention.ms`, JetStream `max_age`). */
  retentionMs?: number | undefined
  /** Compression of stored records (Kafka `compression.type`; JetStream S2 for any but `none`). */
  compression?: TopicCompression | undefined
  /** `delete` drops old records; `compact` keeps the latest per key (Kafka `cleanup.policy`). */
  cleanupPolicy?: 'delete' | 'compact' | undefined
}

/** What `bus.createTopic` did. */
export interface TopicCreation {
  /** The topic. */
  topic: string
  /** True when this call created it; false when it existed already (its settings left as they were). */
  created: boolean
  /** Settings the broker took. */
  applied: (keyof TopicSettings)[]
  /** Settings given that this broker has no such thing for, or that an existing topic kept. */
  ignored: (keyof TopicSettings)[]
}

const SETTINGS = ['partitions', 'replicationFactor', 'retentionMs', 'compression', 'cleanupPolicy']
const COMPRESSIONS: readonly TopicCompression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
const CLEANUP: readonly ('delete' | 'compact')[] = ['delete', 'compact']

/**
 * Checks topic settings and returns the ones that are set.
 * @throws {ConfigurationError} naming the setting that is unknown or out of range.
 */
export function checkTopicSettings(settings: TopicSettings): TopicSettings {
  checkKeys(settings, SETTINGS, 'settings')
  const set = Object.fromEntries(
    Object.entries(settings).filter(([, v]) => v !== undefined),
  ) as TopicSettings
  const whole = { integer: true, min: 1 }
  if (set.partitions !== undefined) checkNumber(set.partitions, 'settings.partitions', whole)
  if (set.replicationFactor !== undefined) {
    checkNumber(set.replicationFactor, 'settings.replicationFactor', whole)
  }
  if (set.retentionMs !== undefined) checkNumber(set.retentionMs, 'settings.retentionMs', whole)
  if (set.compression !== undefined) {
    checkOneOf(set.compression, COMPRESSIONS, 'settings.compression')
  }
  if (set.cleanupPolicy !== undefined) {
    checkOneOf(set.cleanupPolicy, CLEANUP, 'settings.cleanupPolicy')
  }
  return set
}
