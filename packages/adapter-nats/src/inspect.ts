import type { ConsumerInfo, JetStreamManager, MsgRequest } from '@nats-io/jetstream'
import type { TransportGroupInspection, TransportTopicInspection } from '@switchyard/core/transport'
import { covers, GROUP_MARK, subjectsFor } from './mapping.js'
import type { StreamRegistry } from './stream-registry.js'

/** The group a consumer serves: from its description, else its name without the hash. */
function groupOf(info: ConsumerInfo): string {
  const description = info.config.description
  if (description?.startsWith(GROUP_MARK)) return description.slice(GROUP_MARK.length)
  return info.name.replace(/_[^_]+$/, '')
}

/** The subjects a consumer reads. */
function filters(info: ConsumerInfo): string[] {
  const { filter_subject, filter_subjects } = info.config
  return filter_subjects ?? (filter_subject === undefined ? [] : [filter_subject])
}

/**
 * Per topic: the messages its stream holds on its subjects (bytes when the stream holds nothing
 * else); per consumer reading exactly those subjects: `num_pending` (lag), `num_ack_pending`
 * (pending) and the age of the first message past the ack floor when some are pending. Reads
 * only; streams the transport has not created are not created.
 */
export async function inspectTopics(
  jsm: JetStreamManager,
  registry: StreamRegistry,
  aliases: Readonly<Record<string, string | readonly string[]>>,
  topics: readonly string[] | undefined,
): Promise<TransportTopicInspection[]> {
  const names = topics ?? (await listTopics(jsm))
  return Promise.all(names.map((topic) => inspectTopic(jsm, registry, aliases, topic)))
}

async function inspectTopic(
  jsm: JetStreamManager,
  registry: StreamRegistry,
  aliases: Readonly<Record<string, string | readonly string[]>>,
  topic: string,
): Promise<TransportTopicInspection> {
  const subjects = subjectsFor(topic, aliases)
  const stream = await registry.resolve(subjects[0]!, false)
  if (stream === undefined) return { topic, retained: 0, bytes: 0, groups: [] }
  const info = await jsm.streams.info(stream, { subjects_filter: '>' })
  const counts = info.state.subjects ?? {}
  let retained = 0
  for (const [subject, n] of Object.entries(counts)) {
    if (subjects.some((s) => covers(s, subject))) retained += n
  }
  const only = Object.keys(counts).every((subject) => subjects.some((s) => covers(s, subject)))
  const wanted = [...subjects].sort().join(',')
  const consumers = (await jsm.consumers.list(stream).next()).filter(
    (c) => [...filters(c)].sort().join(',') === wanted,
  )
  const now = Date.now()
  const groups = await Promise.all(
    consumers.map(async (c): Promise<TransportGroupInspection> => {
      let oldestUnsettledAgeMs: number | null = null
      if (c.num_ack_pending > 0) {
        const query = { next_by_subj: subjects[0], seq: c.ack_floor.stream_seq + 1 }
        const first = await jsm.streams
          .getMessage(stream, query as unknown as MsgRequest)
          .catch(() => null)
        if (first) oldestUnsettledAgeMs = Math.max(0, now - first.time.getTime())
      }
      return {
        group: groupOf(c),
        lag: c.num_pending,
        pending: c.num_ack_pending,
        oldestUnsettledAgeMs,
      }
    }),
  )
  return { topic, retained, bytes: only ? info.state.bytes : null, groups }
}

/** Every subject that holds messages in any stream, as a topic. */
async function listTopics(jsm: JetStreamManager): Promise<string[]> {
  const found = new Set<string>()
  for (const info of await jsm.streams.list().next()) {
    const detail = await jsm.streams.info(info.config.name, { subjects_filter: '>' })
    for (const subject of Object.keys(detail.state.subjects ?? {})) found.add(subject)
  }
  return [...found].sort()
}
