import type { TopicSettings } from '@switchyard/core/transport'
import type { AdminLike } from './client.js'
import { errorType, goneInbox, missingTopic, notYet, whileSettling } from './errors.js'

/** The partitions and replication a topic the transport creates gets unless told otherwise. */
export interface TopicDefaults {
  partitions: number
  replicationFactor: number
  createTopics: boolean
}

// Kafka's topic-level name for "store as sent, uncompressed".
const COMPRESSION_TYPE = {
  none: 'uncompressed',
  gzip: 'gzip',
  snappy: 'snappy',
  lz4: 'lz4',
  zstd: 'zstd',
}

/** Kafka topic configs for the settings that have one, and the settings they carry. */
function configEntries(settings: TopicSettings) {
  const entries: { name: string; value: string }[] = []
  const applied: (keyof TopicSettings)[] = []
  const add = (key: keyof TopicSettings, name: string, value: string | undefined) => {
    if (value === undefined) return
    entries.push({ name, value })
    applied.push(key)
  }
  add('retentionMs', 'retention.ms', settings.retentionMs?.toString())
  add(
    'compression',
    'compression.type',
    settings.compression && COMPRESSION_TYPE[settings.compression],
  )
  add('cleanupPolicy', 'cleanup.policy', settings.cleanupPolicy)
  return { entries, applied }
}

type TopicSpec = Parameters<AdminLike['createTopics']>[0]['topics'][number]

/** Creates the topic unless it exists; true when this call created it. */
async function createIfMissing(admin: AdminLike, spec: TopicSpec): Promise<boolean> {
  try {
    // kafkajs's own wait trips over KRaft's short metadata lag; `topicPartitions` waits instead.
    return await admin.createTopics({ topics: [spec], waitForLeaders: false })
  } catch (error) {
    // kafkajs reports the broker's per-topic answers as an aggregate ("Topic creation errors").
    const inner = (error as { errors?: unknown[] }).errors ?? [error]
    const types = inner.map(errorType)
    if (types.every((t) => t === 'TOPIC_ALREADY_EXISTS')) return false
    // A busy controller answers before it is done; the creation goes on, and the caller waits
    // for the topic in the metadata.
    if (types.every((t) => t === 'REQUEST_TIMED_OUT')) return true
    throw error
  }
}

/**
 * Creates a missing topic with `settings` (configs, partitions, replication) and waits until its
 * partitions have leaders; an existing topic is left as it is. `bus.createTopic` on Kafka.
 */
export async function createKafkaTopic(
  admin: AdminLike,
  topic: string,
  settings: TopicSettings,
  defaults: TopicDefaults,
): Promise<{ created: boolean; applied: (keyof TopicSettings)[] }> {
  const { entries, applied } = configEntries(settings)
  const created = await createIfMissing(admin, {
    topic,
    numPartitions: settings.partitions ?? defaults.partitions,
    replicationFactor: settings.replicationFactor ?? defaults.replicationFactor,
    configEntries: entries,
  })
  // It exists now (made here or before), so metadata without it is lag, not a missing topic.
  await topicPartitions(admin, topic, defaults, false, true)
  if (!created) return { created, applied: [] }
  const sized: (keyof TopicSettings)[] = ['partitions', 'replicationFactor']
  return { created, applied: [...sized.filter((k) => settings[k] !== undefined), ...applied] }
}

/**
 * The topic's partition count, creating it first with the defaults when `create` and
 * `createTopics` allow. Waits out KRaft's short metadata lag after a creation (and, with
 * `exists`, for a topic known to exist, which the metadata does not show yet).
 * @throws {ConfigurationError} for a missing topic that may not be created.
 */
export async function topicPartitions(
  admin: AdminLike,
  topic: string,
  defaults: TopicDefaults,
  create: boolean,
  exists = false,
): Promise<number> {
  const { partitions, replicationFactor } = defaults
  const createTopics = create && defaults.createTopics
  if (createTopics)
    await createIfMissing(admin, { topic, numPartitions: partitions, replicationFactor })
  // A new topic reaches the metadata of every listener a little after CreateTopics answers.
  return whileSettling(async () => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] }).catch((error) => {
      const type = errorType(error)
      const absent = type === 'UNKNOWN_TOPIC_OR_PARTITION' || type === 'LEADER_NOT_AVAILABLE'
      if (absent && exists) throw notYet(topic)
      if (!absent || createTopics) throw error
      throw create ? missingTopic(topic) : goneInbox(topic)
    })
    const found = topics.find((t) => t.name === topic)
    if (found === undefined || found.partitions.length === 0) throw notYet(topic)
    if (found.partitions.some((p) => p.leader < 0)) throw notYet(topic)
    return found.partitions.length
  }, 100)
}
