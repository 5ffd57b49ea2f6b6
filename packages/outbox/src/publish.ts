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
  /** Rows not tried because an earlier row of their key failed; they stay as they were. */
  held: number
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
 * Publishes claimed rows: one `publishBatch` per topic, topics in parallel. When a topic's batch
 * is refused, it is published again key by key (each key's rows as one batch, a few keys at a
 * time), and a key whose batch fails goes row by row, so one bad row (retryable or not) costs
 * its own attempt only, the healthy rows that shared its batch go out, and none is sent more than
 * twice. A failed row that will be retried holds back the later rows of its key (they stay
 * untouched for the next claim, which skips the key while the row waits); a parked row leaves the
 * order like a dead letter. When the bus itself is out (connection lost, closed, timed out),
 * isolating cannot help: the first row of each key counts an attempt and the rest wait.
 */
export async function publishRows(
  rows: OutboxRow[],
  settings: PublishSettings,
): Promise<PublishOutcome> {
  const out: PublishOutcome = {
    sent: [],
    failures: [],
    failed: [],
    parked: [],
    topics: [],
    held: 0,
  }
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
      const run: TopicRun = { topic, blocked: new Set(), published: false, outage: undefined }
      if (await attempt(out, settings, run, items)) await isolate(out, settings, run, items)
      if (run.published) out.topics.push(topic)
    }),
  )
  return out
}

// Keys published at once while isolating a refused batch.
const ISOLATE_CONCURRENCY = 16

interface TopicRun {
  topic: string
  /** Keys with a row that failed and waits: their later rows are held. */
  blocked: Set<string>
  published: boolean
  /** Set once the bus is out: the rest of the topic is not tried. */
  outage: Error | undefined
}

/**
 * Publishes `items` as one batch and records the outcome; resolves true only when the batch of
 * several rows was refused for a reason that may lie in one of them (so they must be isolated).
 */
async function attempt(
  out: PublishOutcome,
  settings: PublishSettings,
  run: TopicRun,
  items: Item[],
): Promise<boolean> {
  if (run.outage !== undefined) {
    failHeads(out, settings, run, items, run.outage)
    return false
  }
  try {
    await send(settings, run.topic, items)
    for (const item of items) out.sent.push(item.row.seq)
    run.published = true
    return false
  } catch (error) {
    const failure = toError(error)
    if (isOutage(failure)) {
      run.outage = failure
      failHeads(out, settings, run, items, failure)
    } else if (items.length === 1) failRow(out, settings, run, items[0]!, failure)
    else return true
    return false
  }
}

/** Each key's rows as one batch, then row by row for a key whose batch fails; keys in parallel. */
async function isolate(
  out: PublishOutcome,
  settings: PublishSettings,
  run: TopicRun,
  items: Item[],
) {
  const chains: Item[][] = []
  const byKey = new Map<string, Item[]>()
  for (const item of items) {
    const key = item.row.partition_key
    const chain = key === null ? undefined : byKey.get(key)
    if (chain !== undefined) chain.push(item)
    else {
      const created = [item]
      chains.push(created)
      if (key !== null) byKey.set(key, created)
    }
  }
  const chain = async (rows: Item[]) => {
    if (!(await attempt(out, settings, run, rows))) return
    for (const item of rows) {
      const key = item.row.partition_key
      if (key !== null && run.blocked.has(key)) out.held++
      else await attempt(out, settings, run, [item])
    }
  }
  let next = 0
  const worker = async () => {
    while (next < chains.length) await chain(chains[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(ISOLATE_CONCURRENCY, chains.length) }, worker))
}

/** One failed row: counts its attempt; if it will be retried, its key holds for the rest. */
function failRow(
  out: PublishOutcome,
  settings: PublishSettings,
  run: TopicRun,
  item: Item,
  error: Error,
): void {
  const parked = fail(out, settings, [item.row], error)
  const key = item.row.partition_key
  if (parked === 0 && key !== null) run.blocked.add(key)
}

/** The bus is out: the first row of each key (and each row without one) counts an attempt. */
function failHeads(
  out: PublishOutcome,
  settings: PublishSettings,
  run: TopicRun,
  items: Item[],
  error: Error,
): void {
  const heads: OutboxRow[] = []
  for (const { row } of items) {
    const key = row.partition_key
    if (key !== null && run.blocked.has(key)) out.held++
    else {
      heads.push(row)
      if (key !== null) run.blocked.add(key)
    }
  }
  fail(out, settings, heads, error)
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
): number {
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
      attempts: row.attempts,
    })
  }
  const retried = rows.length - parkedIds.length
  if (retried > 0) out.failed.push({ topic: rows[0]!.topic, count: retried, error })
  if (parkedIds.length > 0) out.parked.push({ ids: parkedIds, error })
  return parkedIds.length
}

/**
 * Errors say whether another attempt can help (`retryable`); unknown errors are assumed to. A
 * closed bus is temporary from the outbox's view: the rows wait for a relay with an open bus.
 */
function isRetryable(error: Error): boolean {
  const { retryable, code } = error as { retryable?: unknown; code?: unknown }
  return retryable !== false || code === 'ERR_CLOSED'
}

/**
 * The bus cannot publish anything now (no connection, closed, no answer in time): no row is to
 * blame, so splitting the batch would only repeat the wait.
 */
function isOutage(error: Error): boolean {
  const { code } = error as { code?: unknown }
  return code === 'ERR_CONNECTION' || code === 'ERR_CLOSED' || code === 'ERR_TIMEOUT'
}
