import type { BusInspection, TopicInspection } from '@switchyard/core'
import type { Context } from '../context.js'
import { gatewayCall } from '../gateway-client.js'

interface StreamMetrics {
  stream: string
  retained_count: number
  dead_letter_topic: string
  dead_letter_depth: number
  consumer_groups: Array<{
    group: string
    lag: number | null
    pending: number | null
    oldest_unsettled_age_ms: number | null
    dead_lettered: number | null
  }> | null
  unavailable: string[]
}

/** A stream's metrics (`GET /api/v1/streams/:id/metrics`) in the shape of `bus.inspect()`. */
async function streamInspection(ctx: Context, stream: string): Promise<TopicInspection> {
  const m = (await gatewayCall(
    ctx,
    `api/v1/streams/${encodeURIComponent(stream)}/metrics`,
  )) as StreamMetrics
  return {
    topic: m.stream,
    retained: m.retained_count,
    bytes: null,
    deadLetterTopic: m.dead_letter_topic,
    deadLetterDepth: m.dead_letter_depth,
    groups: (m.consumer_groups ?? []).map((g) => ({
      group: g.group,
      lag: g.lag,
      pending: g.pending,
      oldestUnsettledAgeMs: g.oldest_unsettled_age_ms,
      deadLettered: g.dead_lettered,
    })),
  }
}

async function streamIds(ctx: Context): Promise<string[]> {
  const { streams } = (await gatewayCall(ctx, 'api/v1/streams')) as { streams: { id: string }[] }
  return streams.map((s) => s.id)
}

/** `groups [topic]` through a gateway: one stream's metrics, or every stream the token sees. */
export async function gatewayGroups(
  ctx: Context,
  topic: string | undefined,
): Promise<BusInspection> {
  const ids = topic === undefined ? await streamIds(ctx) : [topic]
  const topics = await Promise.all(ids.map((id) => streamInspection(ctx, id)))
  return { at: new Date().toISOString(), transport: 'gateway', topics }
}

/** `topics` through a gateway: the streams the token may see, each with its metrics. */
export function gatewayTopics(ctx: Context): Promise<BusInspection> {
  return gatewayGroups(ctx, undefined)
}
