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

/** Dead-letter topics read at once to count their entries. */
const BROWSING = 8

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
  // Dead-letter topics are reported under the topic they belong to, when it is there too.
  const owned = (name: string) =>
    name.endsWith(deadLetterSuffix) && byTopic.has(name.slice(0, -deadLetterSuffix.length))
  const shown = found.filter((t) => !owned(t.topic))
  // Counting reads each dead-letter topic (a browse): several at once, not one after another.
  const counts = new Array<Map<string, number> | undefined>(shown.length)
  let next = 0
  const worker = async () => {
    for (let i = next++; i < shown.length; i = next++) {
      const dlq = byTopic.get(`${shown[i]!.topic}${deadLetterSuffix}`)
      counts[i] = await countByGroup(
        transport,
        codec,
        `${shown[i]!.topic}${deadLetterSuffix}`,
        dlq?.retained ?? 0,
      )
    }
  }
  await Promise.all(Array.from({ length: Math.min(BROWSING, shown.length) }, worker))
  const topics = shown.map((t, i): TopicInspection => {
    const deadLetterTopic = `${t.topic}${deadLetterSuffix}`
    const dlq = byTopic.get(deadLetterTopic)
    const count = counts[i]
    return {
      ...t,
      deadLetterTopic,
      deadLetterDepth: dlq?.retained ?? (dlq === undefined ? 0 : null),
      groups: t.groups.map((g) => ({
        ...g,
        deadLettered: count?.get(g.group) ?? (count ? 0 : null),
      })),
    }
  })
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
