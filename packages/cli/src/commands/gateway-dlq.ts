import type { Context } from '../context.js'
import { UsageError } from '../exit-codes.js'
import { gatewayCall } from '../gateway-client.js'
import { excerpt, line, note, printJson, printTable } from '../io.js'
import type { DlqOptions } from './dlq-shared.js'

/** An entry as the gateway lists it (`GET /api/v1/streams/:id/dead-letters`). */
interface GatewayEntry {
  id: string
  event_id: string | null
  type: string | null
  tenant: string | null
  topic: string
  group: string
  reason: string
  error: { name: string; message: string }
  attempts: number
  dead_lettered_at: string
  status: string
}

/** What the gateway answers to a replay or discard. */
interface ActionResult {
  done: string[]
  skipped: { id: string; reason: string }[]
  failed: { id: string; detail: string }[]
}

const SERVER_SIDE = new Set(['type', 'error', 'group', 'since', 'until'])

/** The gateway names a stream; its dead-letter topic is `<stream>.dlq`. */
function streamOf(topic: string): string {
  if (!topic.endsWith('.dlq') || topic.length <= 4)
    throw new UsageError(
      `Through a gateway give the dead-letter topic of a stream (<stream>.dlq), got "${topic}"`,
    )
  return encodeURIComponent(topic.slice(0, -4))
}

/** Lists the open entries that match the filters: the gateway's filters, then the others here. */
async function matching(ctx: Context, topic: string, options: DlqOptions, limit: number) {
  const query = new URLSearchParams({ limit: String(Math.min(limit, 1000)) })
  const local: Array<(e: GatewayEntry) => boolean> = []
  for (const term of options.filter ?? []) {
    const at = term.indexOf('=')
    const key = term.slice(0, at)
    const value = term.slice(at + 1)
    if (SERVER_SIDE.has(key)) query.set(key, value)
    else if (key === 'tenant') local.push((e) => e.tenant === value)
    else if (key === 'topic') local.push((e) => e.topic === value)
    else if (key === 'id') local.push((e) => e.id === value || e.event_id === value)
    else throw new UsageError(`--filter "${term}" must be key=value with a known key`)
  }
  const path = `api/v1/streams/${streamOf(topic)}/dead-letters?${query}`
  const { entries } = (await gatewayCall(ctx, path)) as { entries: GatewayEntry[] }
  return entries.filter((e) => local.every((f) => f(e)))
}

function table(ctx: Context, entries: readonly GatewayEntry[]): void {
  printTable(
    ctx.io,
    ['ID', 'DEAD-LETTERED AT', 'TYPE', 'GROUP', 'ATTEMPTS', 'ERROR'],
    entries.map((e) => [
      e.id,
      e.dead_lettered_at,
      e.type,
      e.group,
      e.attempts,
      excerpt(`${e.error.name}: ${e.error.message}`, 60),
    ]),
  )
}

/** `dlq list` through a gateway: its open entries, newest first. */
export async function gatewayList(ctx: Context, topic: string, options: DlqOptions, limit: number) {
  const entries = await matching(ctx, topic, options, limit)
  if (ctx.io.json) return printJson(ctx.io, entries)
  table(ctx, entries)
  note(ctx.io, `${entries.length} open entries shown (through the gateway)`)
}

/** `dlq show` through a gateway. */
export async function gatewayShow(ctx: Context, topic: string, id: string): Promise<void> {
  const path = `api/v1/streams/${streamOf(topic)}/dead-letters/${encodeURIComponent(id)}`
  const entry = await gatewayCall(ctx, path)
  if (ctx.io.json) return printJson(ctx.io, entry)
  line(ctx.io, JSON.stringify(entry, null, 2))
}

/**
 * `dlq replay|discard` through a gateway: the matching open entries, in batches of at most
 * 1,000 ids; the gateway records each action beside the dead-letter topic.
 */
export async function gatewayAct(
  ctx: Context,
  topic: string,
  options: DlqOptions,
  limit: number,
  action: 'replay' | 'discard',
  start: (total: number) => (tally: { done: number; skipped: number; failed: number }) => void,
): Promise<{ done: number; skipped: number; failed: number }> {
  const entries = await matching(ctx, topic, options, limit)
  const onProgress = start(entries.length)
  const tally = { done: 0, skipped: 0, failed: 0 }
  for (let i = 0; i < entries.length; i += 100) {
    const ids = entries.slice(i, i + 100).map((e) => e.id)
    const result = (await gatewayCall(
      ctx,
      `api/v1/streams/${streamOf(topic)}/dead-letters/${action}`,
      { method: 'POST', body: JSON.stringify({ ids }), contentType: 'application/json' },
    )) as ActionResult
    tally.done += result.done.length
    tally.skipped += result.skipped.length
    tally.failed += result.failed.length
    onProgress(tally)
  }
  return tally
}

/** The entries a gateway replay or discard would take (`--dry-run`). */
export async function gatewayDryRun(
  ctx: Context,
  topic: string,
  options: DlqOptions,
  limit: number,
  verb: string,
): Promise<void> {
  const entries = await matching(ctx, topic, options, limit)
  if (ctx.io.json)
    return printJson(ctx.io, { topic, dryRun: true, [verb]: entries.length, entries })
  table(ctx, entries)
  note(ctx.io, `dry run: ${entries.length} entries would be ${verb}; nothing was changed`)
}
