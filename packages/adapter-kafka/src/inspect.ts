import type { TransportTopicInspection } from '@switchyard/core/transport'
import type { AdminLike } from './client.js'
import { whileSettling } from './errors.js'

/** Groups the adapter makes for a moment (browsing) and never shows as a topic's readers. */
const TRANSIENT = /^switchyard-browse-/
/** Offset fetches in flight at once. */
const PARALLEL = 16

type Committed = Map<string, Map<string, Array<{ partition: number; offset: string }>>>

/**
 * Per topic the records retained (high minus low watermark per partition; bytes are not known
 * to the admin API); per consumer group with committed offsets on it, `lag` = records past the
 * committed offsets. Kafka does not know what was delivered and not yet committed, so `pending`
 * and `oldestUnsettledAgeMs` are `null` (every uncommitted record counts as lag). Reads only.
 */
export async function inspectTopics(
  admin: AdminLike,
  topics: readonly string[] | undefined,
): Promise<TransportTopicInspection[]> {
  const known = new Set(await whileSettling(() => admin.listTopics()))
  const names = topics ?? [...known].filter((t) => !t.startsWith('__')).sort()
  const present = names.filter((t) => known.has(t))
  const committed = await committedOffsets(admin, topics === undefined ? undefined : present)
  return Promise.all(
    names.map(async (topic): Promise<TransportTopicInspection> => {
      if (!known.has(topic)) return { topic, retained: 0, bytes: 0, groups: [] }
      const bounds = await whileSettling(() => admin.fetchTopicOffsets(topic))
      const high = new Map(bounds.map((b) => [b.partition, BigInt(b.high)]))
      const low = new Map(bounds.map((b) => [b.partition, BigInt(b.low)]))
      let retained = 0n
      for (const b of bounds) retained += BigInt(b.high) - BigInt(b.low)
      const groups: TransportTopicInspection['groups'] = []
      for (const [group, partitions] of committed.get(topic) ?? []) {
        let lag = 0n
        for (const { partition, offset } of partitions) {
          const end = high.get(partition) ?? 0n
          const from = offset === '-1' ? (low.get(partition) ?? 0n) : BigInt(offset)
          if (end > from) lag += end - from
        }
        groups.push({ group, lag: Number(lag), pending: null, oldestUnsettledAgeMs: null })
      }
      return { topic, retained: Number(retained), bytes: null, groups }
    }),
  )
}

/** Committed offsets by topic and group: one offset fetch per consumer group. */
async function committedOffsets(
  admin: AdminLike,
  topics: string[] | undefined,
): Promise<Committed> {
  const out: Committed = new Map()
  if (topics?.length === 0) return out
  const { groups } = await whileSettling(() => admin.listGroups())
  const ids = groups
    .filter((g) => g.protocolType === 'consumer' || g.protocolType === '')
    .map((g) => g.groupId)
    .filter((id) => !TRANSIENT.test(id))
  for (let i = 0; i < ids.length; i += PARALLEL) {
    await Promise.all(
      ids.slice(i, i + PARALLEL).map(async (groupId) => {
        const found = await whileSettling(() =>
          admin.fetchOffsets(topics === undefined ? { groupId } : { groupId, topics }),
        )
        for (const { topic, partitions } of found) {
          if (partitions.every((p) => p.offset === '-1')) continue
          const byGroup = out.get(topic) ?? new Map()
          out.set(topic, byGroup)
          byGroup.set(groupId, partitions)
        }
      }),
    )
  }
  return out
}
