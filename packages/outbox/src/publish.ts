import {
  type Backoff,
  type Codec,
  type EventEnvelope,
  TimeoutError,
  toError,
} from '@switchyard/core'
import type { Failure } from './claim.js'
import type { OutboxRow } from './driver.js'
import type { RelayTarget } from './options.js'

/** What publishing a claimed batch came to. */
export interface PublishOutcome {
  /** Seqs confirmed by the bus. */
  sent: string[]
  /** Rows to retry later or park. */
  failures: Failure[]
  /** Per failed topic batch, for the `onFailed` hook. */
  failed: { topic: string; count: number; error: Error }[]
  /** Parked event ids with the error that parked them, for the `onParked` hook. */
  parked: { ids: string[]; error: Error }[]
  /** Topics that received events. */
  topics: string[]
}

/** What publishing needs from the relay's settings. */
export interface PublishSettings {
  bus: RelayTarget
  codec: Codec
  backoff: Backoff
  maxAttempts: number
  publishTimeoutMs: number
}

interface Item {
  row: OutboxRow
  event: EventEnvelope
}

/**
 * Publishes claimed rows: one `publishBatch` per topic, topics in parallel. When a batch is
 * refused for a reason retrying cannot fix (validation), its rows go one by one so only the bad
 * row is parked. After a retryable failure of one row, later rows of its key wait, keeping order.
 */
export async function publishRows(
  rows: OutboxRow[],
  settings: PublishSettings,
): Promise<PublishOutcome> {
  const out: PublishOutcome = { sent: [], failures: [], failed: [], parked: [], topics: [] }
  const groups = new Map<string, Item[]>()
  for (const row of rows) {
    let event: EventEnvelope
    try {
      event = settings.codec.decode({ headers: row.headers, body: row.payload })
    } catch (error) {
      fail(out, settings, [row], toError(error), true)
      continue
    }
    const group = groups.get(row.topic)
    if (group === undefined) groups.set(row.topic, [{ row, event }])
    else group.push({ row, event })
  }
  await Promise.all(
    [...groups].map(async ([topic, items]) => {
      try {
        await send(settings, topic, items)
        for (const item of items) out.sent.push(item.row.seq)
        out.topics.push(topic)
      } catch (error) {
        const failure = toError(error)
        if (isRetryable(failure) || items.length === 1)
          fail(
            out,
            settings,
            items.map((i) => i.row),
            failure,
          )
        else await oneByOne(out, settings, topic, items)
      }
    }),
  )
  return out
}

async function oneByOne(
  out: PublishOutcome,
  settings: PublishSettings,
  topic: string,
  items: Item[],
) {
  const blocked = new Set<string>()
  let published = false
  for (const item of items) {
    const key = item.row.partition_key
    if (key !== null && blocked.has(key)) continue
    try {
      await send(settings, topic, [item])
      out.sent.push(item.row.seq)
      published = true
    } catch (error) {
      const failure = toError(error)
      // A parked row leaves the order like a dead letter; a row that will be retried holds its key.
      if (isRetryable(failure) && key !== null) blocked.add(key)
      fail(out, settings, [item.row], failure)
    }
  }
  if (published) out.topics.push(topic)
}

async function send(settings: PublishSettings, topic: string, items: Item[]): Promise<void> {
  const { publishTimeoutMs } = settings
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new TimeoutError(`Publishing to "${topic}" took over ${publishTimeoutMs} ms`, {
            timeoutMs: publishTimeoutMs,
          }),
        ),
      publishTimeoutMs,
    )
  })
  try {
    await Promise.race([
      settings.bus.publishBatch(
        topic,
        items.map((i) => i.event),
      ),
      timeout,
    ])
  } finally {
    clearTimeout(timer)
  }
}

function fail(
  out: PublishOutcome,
  settings: PublishSettings,
  rows: OutboxRow[],
  error: Error,
  hopeless = false,
) {
  const text = `${error.name}: ${error.message}`.slice(0, 2_000)
  const parkedIds: string[] = []
  for (const row of rows) {
    const attempt = row.attempts + 1
    const park = hopeless || !isRetryable(error) || attempt >= settings.maxAttempts
    if (park) parkedIds.push(row.id)
    out.failures.push({
      seq: row.seq,
      delayMs: park ? 0 : settings.backoff(attempt),
      park,
      error: text,
    })
  }
  const retried = rows.length - parkedIds.length
  if (retried > 0) out.failed.push({ topic: rows[0]!.topic, count: retried, error })
  if (parkedIds.length > 0) out.parked.push({ ids: parkedIds, error })
}

/**
 * Errors say whether another attempt can help (`retryable`); unknown errors are assumed to. A
 * closed bus is temporary from the outbox's view: the rows wait for a relay with an open bus.
 */
function isRetryable(error: Error): boolean {
  const { retryable, code } = error as { retryable?: unknown; code?: unknown }
  return retryable !== false || code === 'ERR_CLOSED'
}
