import {
  DEAD_LETTER_TYPE,
  type DeadLetterRecord,
  type EventBus,
  outcome,
  readDeadLetter,
} from '@switchyard/core'
import cliProgress from 'cli-progress'
import { type Context, withBus } from '../context.js'
import { readDeadLetters } from '../dead-letters.js'
import { deadLetterFilter } from '../dlq-filter.js'
import { UsageError } from '../exit-codes.js'
import { line, note, printJson } from '../io.js'
import { type DlqOptions, limitOf, printEntries } from './dlq-shared.js'
import { gatewayAct, gatewayDryRun } from './gateway-dlq.js'

/** How many entries each step saw, for the summary. */
interface Tally {
  done: number
  skipped: number
  failed: number
}

function waitMsOf(options: DlqOptions, bus: EventBus): number {
  if (options.wait === undefined) return bus.transport.name === 'kafka' ? 30_000 : 5_000
  const ms = Number(options.wait)
  if (!Number.isFinite(ms) || ms <= 0) throw new UsageError('--wait must be milliseconds above 0')
  return ms
}

/** A progress bar on stderr when it is a terminal and no JSON is asked for; else nothing. */
function progress(ctx: Context, total: number, verb: string) {
  if (!ctx.io.stderrTty || ctx.io.json)
    return { update: (_t: Tally) => undefined, stop: () => undefined }
  const bar = new cliProgress.SingleBar(
    {
      stream: ctx.io.stderr as NodeJS.WriteStream,
      format: `${verb} [{bar}] {value}/{total} | ${verb} {done}, skipped {skipped}, failed {failed}`,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  )
  bar.start(total, 0, { done: 0, skipped: 0, failed: 0 })
  return {
    update: (t: Tally) => bar.update(Math.min(total, t.done + t.skipped + t.failed), { ...t }),
    stop: () => bar.stop(),
  }
}

/**
 * Prints the dry run: the retained entries that match. Which of them the replay group already
 * took cannot be read without consuming, so the note says how many it has not taken yet.
 */
async function dryRun(
  ctx: Context,
  bus: EventBus,
  topic: string,
  options: DlqOptions,
  verb: string,
) {
  const view = await readDeadLetters(bus, topic)
  const entries = view.entries
    .filter(deadLetterFilter(options.filter))
    .slice(0, limitOf(options, Number.POSITIVE_INFINITY))
  const waiting = view.waiting
  if (ctx.io.json)
    return printJson(ctx.io, { topic, dryRun: true, matching: entries.length, waiting, entries })
  printEntries(ctx, entries)
  note(
    ctx.io,
    `dry run: ${entries.length} retained entries match; ${waiting ?? '?'} of all retained were not replayed or discarded yet, so at most that many would be ${verb}. Nothing was changed`,
  )
}

function summary(ctx: Context, topic: string, verb: string, tally: Tally): void {
  const result = { topic, [verb]: tally.done, skipped: tally.skipped, failed: tally.failed }
  if (ctx.io.json) printJson(ctx.io, result)
  else {
    const c = ctx.io.colors
    const failed = tally.failed > 0 ? c.red(`failed ${tally.failed}`) : `failed ${tally.failed}`
    line(ctx.io, `${c.green(`${verb} ${tally.done}`)}, skipped ${tally.skipped}, ${failed}`)
  }
  if (tally.failed > 0) throw new Error(`${tally.failed} entries could not be ${verb}`)
}

/** `dlq replay`: core's `deadLetters.replay`, counting what its filter saw. */
export async function replay(ctx: Context, topic: string, options: DlqOptions): Promise<void> {
  if (ctx.options.gateway !== undefined) return throughGateway(ctx, topic, options, 'replay')
  const matches = deadLetterFilter(options.filter)
  await withBus(ctx, async (bus) => {
    if (options.dryRun === true) return dryRun(ctx, bus, topic, options, 'replayed')
    const view = await readDeadLetters(bus, topic)
    const bar = progress(ctx, view.waiting ?? view.entries.length, 'replayed')
    const seen = new Map<string, boolean>()
    const tally: Tally = { done: 0, skipped: 0, failed: 0 }
    const count = () => {
      const chosen = [...seen.values()].filter(Boolean).length
      tally.skipped = seen.size - chosen
      tally.failed = Math.max(0, chosen - tally.done)
    }
    try {
      tally.done = await bus.deadLetters.replay(topic, {
        waitMs: waitMsOf(options, bus),
        ...(options.limit === undefined ? {} : { limit: limitOf(options, 0) }),
        filter: (entry: DeadLetterRecord) => {
          const ok = matches(entry)
          seen.set(entry.id, ok)
          count()
          bar.update({ ...tally, done: [...seen.values()].filter(Boolean).length, failed: 0 })
          return ok
        },
      })
    } finally {
      count()
      bar.update(tally)
      bar.stop()
    }
    summary(ctx, topic, 'replayed', tally)
  })
}

/**
 * `dlq discard`: the replay group takes the matching entries without sending them, so no later
 * replay does; the others are handed back for a later replay, as replay's filter does.
 */
export async function discard(ctx: Context, topic: string, options: DlqOptions): Promise<void> {
  if (ctx.options.gateway !== undefined) return throughGateway(ctx, topic, options, 'discard')
  const matches = deadLetterFilter(options.filter)
  const limit = limitOf(options, Number.POSITIVE_INFINITY)
  await withBus(ctx, async (bus) => {
    if (options.dryRun === true) return dryRun(ctx, bus, topic, options, 'discarded')
    const view = await readDeadLetters(bus, topic)
    const bar = progress(ctx, view.waiting ?? view.entries.length, 'discarded')
    const tally: Tally = { done: 0, skipped: 0, failed: 0 }
    const skipped = new Set<string>()
    let timer: NodeJS.Timeout | undefined
    let finish!: () => void
    const done = new Promise<void>((resolve) => {
      finish = resolve
    })
    const idle = (ms: number) => {
      clearTimeout(timer)
      timer = setTimeout(finish, ms)
    }
    // Entries left out are handed back a second later: this run stops before they come again
    // (a repeat does not count as activity), and the next replay or discard finds them at once.
    const later = outcome.retry({ delayMs: 1_000 })
    const subscription = await bus.subscribe(
      topic,
      (event) => {
        if (tally.done >= limit) return later
        if (event.type !== DEAD_LETTER_TYPE) {
          idle(500)
          return
        }
        const entry = readDeadLetter(event)
        if (!matches(entry)) {
          if (!skipped.has(entry.id)) idle(500)
          skipped.add(entry.id)
          tally.skipped = skipped.size
          bar.update(tally)
          return later
        }
        idle(500)
        tally.done++
        bar.update(tally)
        if (tally.done >= limit) finish()
        return
      },
      {
        group: view.replayGroup,
        startAt: 'earliest',
        retry: { maxAttempts: 1_000, inProcessMaxDelayMs: 0 },
      },
    )
    idle(waitMsOf(options, bus))
    await done
    clearTimeout(timer)
    await subscription.close()
    bar.stop()
    summary(ctx, topic, 'discarded', tally)
  })
}

/** `dlq replay|discard` through a gateway's dead-letter routes. */
async function throughGateway(
  ctx: Context,
  topic: string,
  options: DlqOptions,
  action: 'replay' | 'discard',
): Promise<void> {
  const verb = action === 'replay' ? 'replayed' : 'discarded'
  const limit = limitOf(options, 1000)
  if (options.dryRun === true) return gatewayDryRun(ctx, topic, options, limit, verb)
  let bar: ReturnType<typeof progress> | undefined
  try {
    const tally = await gatewayAct(ctx, topic, options, limit, action, (total) => {
      bar = progress(ctx, total, verb)
      return bar.update
    })
    bar?.stop()
    summary(ctx, topic, verb, tally)
  } finally {
    bar?.stop()
  }
}
