import { randomUUID } from 'node:crypto'
import { type InboundMessage, withTimeout } from '@switchyard/core/transport'
import { type AdminLike, createConsumer } from './client.js'
import { whileSettling } from './errors.js'
import { position, readBody, readHeaders, readKey, readTimestamp } from './mapping.js'
import type { KafkaClientLike, ResolvedKafkaOptions } from './options.js'

/** No records for this long after some came: the rest of the topic is markers, not records. */
const QUIET_MS = 1_500

interface Read {
  message: InboundMessage
  timestamp: number
}

/**
 * Reads up to `limit` records from the start of a topic without touching any real group:
 * a throwaway group reads from the earliest offsets up to the high watermarks taken at the
 * start, commits nothing, and is deleted afterwards. Records come oldest first (by timestamp).
 */
export async function browseTopic(
  client: KafkaClientLike,
  admin: AdminLike,
  topic: string,
  limit: number,
  options: ResolvedKafkaOptions,
): Promise<InboundMessage[]> {
  const bounds = await whileSettling(() => admin.fetchTopicOffsets(topic))
  const ends = new Map(bounds.map((b) => [b.partition, BigInt(b.high)]))
  const remaining = new Set(
    bounds.filter((b) => BigInt(b.high) > BigInt(b.low)).map((b) => b.partition),
  )
  if (remaining.size === 0 || limit <= 0) return []
  const groupId = `switchyard-browse-${randomUUID()}`
  const consumer = createConsumer(client, groupId, options, true)
  const reads: Read[] = []
  const perPartition = new Map<number, number>()
  let lastBatchAt = 0
  let finish!: () => void
  const done = new Promise<void>((resolve) => {
    finish = resolve
  })
  try {
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, bounds.length),
      eachBatch: async ({ batch, resolveOffset }) => {
        lastBatchAt = Date.now()
        const end = ends.get(batch.partition) ?? 0n
        for (const record of batch.messages) {
          const taken = perPartition.get(batch.partition) ?? 0
          if (BigInt(record.offset) >= end || taken >= limit) {
            remaining.delete(batch.partition)
            break
          }
          perPartition.set(batch.partition, taken + 1)
          reads.push({
            message: snapshot(topic, batch.partition, record),
            timestamp: Number(record.timestamp),
          })
          resolveOffset(record.offset)
          if (BigInt(record.offset) + 1n >= end) remaining.delete(batch.partition)
        }
        // The batch's last offset counts what kafkajs filtered out: a transaction's commit marker
        // takes the last offset of a transactionally written topic and is never delivered.
        if (BigInt(batch.lastOffset()) + 1n >= end) remaining.delete(batch.partition)
        if (remaining.size === 0) finish()
      },
    })
    // A marker fetched on its own reaches no eachBatch: once records came, a quiet spell of a
    // few fetches means the end. Lists what arrived within the time when nothing comes at all.
    const quiet = setInterval(() => {
      if (lastBatchAt > 0 && Date.now() - lastBatchAt > QUIET_MS) finish()
    }, QUIET_MS / 4)
    await withTimeout(done, 30_000).catch(() => undefined)
    clearInterval(quiet)
  } finally {
    await consumer.disconnect().catch(() => undefined)
    await admin.deleteGroups([groupId]).catch(() => undefined)
  }
  reads.sort((a, b) => a.timestamp - b.timestamp)
  return reads.slice(0, limit).map((r) => r.message)
}

function snapshot(
  topic: string,
  partition: number,
  record: Parameters<typeof readHeaders>[0],
): InboundMessage {
  return {
    topic,
    headers: readHeaders(record),
    // Copied, so a listed entry does not pin the whole fetch response in memory.
    body: new Uint8Array(readBody(record)),
    key: readKey(record),
    attempt: 1,
    position: position(partition, record.offset),
    timestamp: readTimestamp(record),
    ack: () => undefined,
    nack: () => undefined,
  }
}
