import type { Codec } from './codec.js'
import { DEAD_LETTER_TYPE, readDeadLetter } from './dead-letter-entry.js'
import { ConfigurationError } from './errors.js'
import { checkTopic } from './options.js'
import type { Transport, TransportGroupInspection, TransportTopicInspection } from './transport.js'

/** A consumer group in `bus.inspect()`: the transport's figures plus its dead letters. */
export interface GroupInspection extends TransportGroupInspection {
  /** Entries this group dead-lettered that the dead-letter topic still keeps; `null` when it cannot be listed. */
  deadLettered: number | null
}

/** A topic in `bus.inspect()`. Plain JSON-serialisable data. */
export interface TopicInspection extends Omit<TransportTopicInspection, 'groups'> {
  /** Where the topic's groups dead-letter by default (`<topic><deadLetterSuffix>`). */
  deadLetterTopic: string
  /** Entries retained on that dead-letter topic; `null` when unknown. */
  deadLetterDepth: number | null
  /** The topic's consumer groups. */
  groups: GroupInspection[]
}

/** What `bus.inspect()` answers. */
export interface BusInspection {
  /** When the figures were read (ISO). */
  at: string
  /** The transport that answered. */
  transport: string
  /** One entry per topic asked for (or per topic the broker knows, without a topic). */
  topics: TopicInspection[]
}

/** The most dead-letter entries read to count them per group. */
const COUNT_LIMIT = 10_000

/**
 * Reads the transport's figures for `topic` (or every topic) and adds the dead-letter depth of
 * each topic and the entries each group dead-lettered.
 */
export async function inspectBus(
  transport: Transport,
  codec: Codec,
  deadLetterSuffix: string,
  topic: string | undefined,
): Promise<BusInspection> {
  if (transport.inspect === undefined) {
    throw new ConfigurationError(`The ${transport.name} transport cannot be inspected`, {
      field: 'transport',
    })
  }
  if (topic !== undefined) checkTopic(topic)
  const at = new Date().toISOString()
  // A topic asked for comes with its dead-letter topic, in the same request.
  const asked = topic === undefined ? undefined : [topic, `${topic}${deadLetterSuffix}`]
  const found = await transport.inspect(asked)
  const byTopic = new Map(found.map((t) => [t.topic, t]))
  const topics: TopicInspection[] = []
  for (const t of found) {
    // Dead-letter topics are reported under the topic they belong to, when it is there too.
    if (
      t.topic.endsWith(deadLetterSuffix) &&
      byTopic.has(t.topic.slice(0, -deadLetterSuffix.length))
    )
      continue
    const deadLetterTopic = `${t.topic}${deadLetterSuffix}`
    const dlq = byTopic.get(deadLetterTopic)
    const counts = await countByGroup(transport, codec, deadLetterTopic, dlq?.retained ?? 0)
    topics.push({
      ...t,
      deadLetterTopic,
      deadLetterDepth: dlq?.retained ?? (dlq === undefined ? 0 : null),
      groups: t.groups.map((g) => ({
        ...g,
        deadLettered: counts?.get(g.group) ?? (counts ? 0 : null),
      })),
    })
  }
  return { at, transport: transport.name, topics }
}

/** Dead-letter entries per group, read from the dead-letter topic without consuming it. */
async function countByGroup(
  transport: Transport,
  codec: Codec,
  topic: string,
  retained: number | null,
): Promise<Map<string, number> | undefined> {
  if (transport.browse === undefined) return undefined
  const counts = new Map<string, number>()
  if (retained === 0) return counts
  for (const message of await transport.browse(topic, { limit: COUNT_LIMIT })) {
    try {
      const event = message.event ?? codec.decode(message)
      if (event.type !== DEAD_LETTER_TYPE) continue
      const { group } = readDeadLetter(event)
      counts.set(group, (counts.get(group) ?? 0) + 1)
    } catch {
      // Not an entry (a foreign message on the dead-letter topic): not counted.
    }
  }
  return counts
}
