import type { Command } from 'commander'
import { type Context, withBus } from '../context.js'
import { findEntry, readDeadLetters } from '../dead-letters.js'
import { deadLetterFilter } from '../dlq-filter.js'
import { line, note, printJson } from '../io.js'
import { discard, replay } from './dlq-replay.js'
import { type DlqOptions, limitOf, printEntries } from './dlq-shared.js'
import { gatewayList, gatewayShow } from './gateway-dlq.js'

async function list(ctx: Context, topic: string, options: DlqOptions): Promise<void> {
  const matches = deadLetterFilter(options.filter)
  const limit = limitOf(options, 100)
  if (ctx.options.gateway !== undefined) return gatewayList(ctx, topic, options, limit)
  await withBus(ctx, async (bus) => {
    const view = await readDeadLetters(bus, topic)
    const entries = view.entries.filter(matches).slice(0, limit)
    if (ctx.io.json) return printJson(ctx.io, entries)
    printEntries(ctx, entries)
    note(
      ctx.io,
      `${entries.length} shown of ${view.entries.length} retained; ${view.waiting ?? '?'} not yet replayed or discarded (group ${view.replayGroup})`,
    )
  })
}

async function show(ctx: Context, topic: string, id: string): Promise<void> {
  if (ctx.options.gateway !== undefined) return gatewayShow(ctx, topic, id)
  await withBus(ctx, async (bus) => {
    const entry = findEntry(await readDeadLetters(bus, topic), id, topic)
    if (ctx.io.json) return printJson(ctx.io, entry)
    const c = ctx.io.colors
    const field = (name: string, value: unknown) =>
      line(ctx.io, `${c.bold(`${name}:`.padEnd(16))}${value ?? '-'}`)
    field('entry', entry.id)
    field('topic', entry.topic)
    field('group', entry.group)
    field('dead-lettered', entry.deadLetteredAt)
    field('attempts', entry.attempts)
    field('reason', entry.reason)
    field('error', c.red(`${entry.error.name}: ${entry.error.message}`))
    for (const issue of entry.error.issues ?? [])
      field('  issue', `${issue.path}: ${issue.message}`)
    field('position', entry.position)
    line(ctx.io, c.bold('original event:'))
    line(ctx.io, JSON.stringify(entry.event ?? null, null, 2))
  })
}

const FILTER_HELP = `
Filters (--filter key=value, repeatable, all must hold): type=<glob> (original type),
error=<text> (in error or reason), group=<g>, tenant=<t>, topic=<original topic>,
since=<time|1h>, until=<time|1h>, id=<entry or event id>.`

/** `switchyard dlq list|show|replay|discard`. */
export function registerDlq(program: Command, context: (cmd: Command) => Context): void {
  const dlq = program
    .command('dlq')
    .description('List, show, replay or discard dead letters')
    .addHelpText('after', `${FILTER_HELP}\n\nRun switchyard dlq <command> --help for examples.`)
  const filters = (cmd: Command) =>
    cmd
      .option('--filter <key=value...>', 'only matching entries (see below)')
      .option('--limit <n>', 'at most n entries')
  filters(dlq.command('list'))
    .argument('<dlq-topic>', 'the dead-letter topic, e.g. orders.dlq')
    .description('List dead-letter entries (read-only: nothing is consumed)')
    .addHelpText(
      'after',
      `${FILTER_HELP}

Examples:
  $ switchyard dlq list orders.dlq --url redis://127.0.0.1:6379
  $ switchyard dlq list orders.dlq --filter type='order.*' --filter error=timeout --json`,
    )
    .action((topic: string, options: DlqOptions, cmd: Command) =>
      list(context(cmd), topic, options),
    )
  dlq
    .command('show')
    .argument('<dlq-topic>', 'the dead-letter topic')
    .argument('<id>', 'the entry id, or the original event id')
    .description('Show one entry: why it failed, and its original event')
    .addHelpText(
      'after',
      `
Examples:
  $ switchyard dlq show orders.dlq 5f0c7a8e-... --url nats://127.0.0.1:4222
  $ switchyard dlq show orders.dlq 5f0c7a8e-... --json | jq .event.data`,
    )
    .action((topic: string, id: string, _o, cmd: Command) => show(context(cmd), topic, id))
  filters(dlq.command('replay'))
    .argument('<dlq-topic>', 'the dead-letter topic')
    .description(
      'Send entries back to their original topics, byte for byte; shows progress and a summary',
    )
    .option('--dry-run', 'list what would be replayed, send nothing')
    .option('--wait <ms>', 'how long to wait for the first entry (default 5000, Kafka 30000)')
    .addHelpText(
      'after',
      `${FILTER_HELP}

Entries are taken by the group <dlq-topic>.replay, so a second replay starts after the first;
entries a filter leaves out stay for a later replay. Exit code 1 when any entry failed.

Examples:
  $ switchyard dlq replay orders.dlq --dry-run
  $ switchyard dlq replay orders.dlq --filter error=ECONNREFUSED --limit 100`,
    )
    .action((topic: string, options: DlqOptions, cmd: Command) =>
      replay(context(cmd), topic, options),
    )
  filters(dlq.command('discard'))
    .argument('<dlq-topic>', 'the dead-letter topic')
    .description('Mark entries as handled so replay never sends them (they stay retained)')
    .option('--dry-run', 'list what would be discarded, change nothing')
    .option('--wait <ms>', 'how long to wait for the first entry (default 5000, Kafka 30000)')
    .addHelpText(
      'after',
      `${FILTER_HELP}

The broker keeps discarded entries until its retention drops them; "dlq list" still shows them.

Examples:
  $ switchyard dlq discard orders.dlq --filter type=order.test --dry-run
  $ switchyard dlq discard orders.dlq --filter until=7d`,
    )
    .action((topic: string, options: DlqOptions, cmd: Command) =>
      discard(context(cmd), topic, options),
    )
}
