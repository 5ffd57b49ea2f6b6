import type { TransportGroupInspection, TransportTopicInspection } from '@switchyard/core/transport'
import type { Cluster, Redis } from 'ioredis'
import { idTime, topicKeys } from './mapping.js'

/** An `XINFO` reply (a flat field/value list) as an object. */
export function fields(reply: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const list = reply as unknown[]
  for (let i = 0; i + 1 < list.length; i += 2) out[String(list[i])] = list[i + 1]
  return out
}

const count = (value: unknown): number | null => {
  if (value === null || value === undefined) return null
  const n = Number(value)
  return Number.isFinite(n) ? n : null
}

/**
 * Per topic `XLEN`-like length and `MEMORY USAGE`; per group, from `XINFO GROUPS`: `lag` (Redis 7
 * reports it; `null` when it cannot, after deletions), `pending` (the group's pending entries
 * list) and the age of the oldest pending entry from `XPENDING`. Reads only.
 */
export async function inspectTopics(
  client: Redis | Cluster,
  prefix: string,
  topics: readonly string[] | undefined,
): Promise<TransportTopicInspection[]> {
  const names = topics ?? (await listTopics(client, prefix))
  return Promise.all(names.map((topic) => inspectTopic(client, prefix, topic)))
}

async function inspectTopic(
  client: Redis | Cluster,
  prefix: string,
  topic: string,
): Promise<TransportTopicInspection> {
  const { stream } = topicKeys(prefix, topic)
  let info: Record<string, unknown>
  try {
    info = fields(await client.call('XINFO', 'STREAM', stream))
  } catch (error) {
    if (/no such key/i.test((error as Error).message)) {
      return { topic, retained: 0, bytes: 0, groups: [] }
    }
    throw error
  }
  const [bytes, groupReplies] = await Promise.all([
    client.call('MEMORY', 'USAGE', stream).catch(() => null),
    client.call('XINFO', 'GROUPS', stream) as Promise<unknown[]>,
  ])
  const now = Date.now()
  const groups = await Promise.all(
    groupReplies.map(async (reply): Promise<TransportGroupInspection> => {
      const g = fields(reply)
      const group = String(g.name)
      const pending = count(g.pending) ?? 0
      let oldestUnsettledAgeMs: number | null = null
      if (pending > 0) {
        const summary = (await client.call('XPENDING', stream, group)) as unknown[]
        const oldest = idTime(String(summary[1] ?? ''))
        if (oldest !== undefined) oldestUnsettledAgeMs = Math.max(0, now - oldest)
      }
      return { group, lag: count(g.lag), pending, oldestUnsettledAgeMs }
    }),
  )
  return { topic, retained: count(info.length), bytes: count(bytes), groups }
}

/** Topics with a stream under this prefix, from `SCAN` on every master. */
async function listTopics(client: Redis | Cluster, prefix: string): Promise<string[]> {
  const head = `{${prefix}:`
  const tail = '}:stream'
  const nodes: Redis[] =
    typeof (client as Cluster).nodes === 'function'
      ? (client as Cluster).nodes('master')
      : [client as Redis]
  const found = new Set<string>()
  for (const node of nodes) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(
        cursor,
        'MATCH',
        `${head.replace(/[*?[\]\\]/g, '\\$&')}*${tail}`,
        'COUNT',
        1000,
      )
      cursor = next
      for (const key of keys) found.add(key.slice(head.length, -tail.length))
    } while (cursor !== '0')
  }
  return [...found].sort()
}
