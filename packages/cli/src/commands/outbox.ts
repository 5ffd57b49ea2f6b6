import type { Command } from 'commander'
import type { Context } from '../context.js'
import { UsageError } from '../exit-codes.js'
import { age, line, printJson, printTable } from '../io.js'
import { type OutboxOptions, withOutbox } from '../outbox-backend.js'
import { parseFrom } from '../tail-reader.js'

/** `switchyard outbox status|parked|requeue|prune`. */
export function registerOutbox(program: Command, context: (cmd: Command) => Context): void {
  const outbox = program
    .command('outbox')
    .description('The transactional outbox in PostgreSQL: backlog, parked rows, requeue, prune')
  const db = (cmd: Command) =>
    cmd
      .option(
        '--database <url>',
        'postgres:// URL (default SWITCHYARD_POSTGRES_URL or DATABASE_URL)',
      )
      .option('--table <name>', 'the outbox table', 'outbox')
  db(outbox.command('status'))
    .description('Pending rows and the age of the oldest, parked rows and the age of the oldest')
    .addHelpText(
      'after',
      '\nExamples:\n  $ DATABASE_URL=postgres://localhost/app switchyard outbox status\n  $ switchyard outbox status --json | jq .parked',
    )
    .action((options: OutboxOptions, cmd: Command) => {
      const ctx = context(cmd)
      return withOutbox(ctx, options, async (outbox) => {
        const s = await outbox.status()
        if (ctx.io.json) return printJson(ctx.io, s)
        printTable(
          ctx.io,
          ['PENDING', 'OLDEST PENDING', 'PARKED', 'OLDEST PARKED'],
          [[s.pending, age(s.pendingLagMs), s.parked, age(s.parkedLagMs)]],
        )
      })
    })
  db(outbox.command('parked'))
    .description('Rows the relay gave up on, oldest first, with their last error')
    .option('--limit <n>', 'at most n rows', '100')
    .addHelpText(
      'after',
      '\nExamples:\n  $ switchyard outbox parked --limit 20\n  $ switchyard outbox parked --json | jq -r .[].id',
    )
    .action((options: OutboxOptions, cmd: Command) => {
      const ctx = context(cmd)
      const limit = Number(options.limit)
      if (!Number.isInteger(limit) || limit <= 0)
        throw new UsageError('--limit must be a whole number above 0')
      return withOutbox(ctx, options, async (outbox) => {
        const rows = await outbox.parked(limit)
        if (ctx.io.json) return printJson(ctx.io, rows)
        printTable(
          ctx.io,
          ['ID', 'TOPIC', 'ATTEMPTS', 'PARKED AT', 'LAST ERROR'],
          rows.map((r) => [r.id, r.topic, r.attempts, r.parkedAt.toISOString(), r.lastError]),
        )
      })
    })
  db(outbox.command('requeue'))
    .description('Put parked rows back in line with a fresh attempt budget')
    .option('--id <id...>', 'only these event ids')
    .option('--all', 'every parked row')
    .addHelpText(
      'after',
      '\nExamples:\n  $ switchyard outbox requeue --id 0b7c2f1e-...\n  $ switchyard outbox requeue --all --json',
    )
    .action((options: OutboxOptions, cmd: Command) => {
      const ctx = context(cmd)
      if ((options.id === undefined) === (options.all !== true))
        throw new UsageError('Give either --id <id...> or --all')
      return withOutbox(ctx, options, async (outbox) => {
        const requeued = await outbox.requeue(options.id)
        if (ctx.io.json) return printJson(ctx.io, { requeued })
        line(ctx.io, `requeued ${requeued} parked row${requeued === 1 ? '' : 's'}`)
      })
    })
  db(outbox.command('prune'))
    .description('Delete sent rows (pending and parked rows are never touched)')
    .option('--older-than <duration>', 'only rows sent longer ago than this (30s, 10m, 1h, 7d)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ switchyard outbox prune --older-than 1h\n  $ switchyard outbox prune --json',
    )
    .action((options: OutboxOptions, cmd: Command) => {
      const ctx = context(cmd)
      let olderThanMs = 0
      if (options.olderThan !== undefined) {
        const now = Date.now()
        const from = parseFrom(options.olderThan, now)
        if (from.kind !== 'time' || !/^\d+(ms|s|m|h|d)$/.test(options.olderThan))
          throw new UsageError('--older-than must be a duration such as 30s, 10m, 1h or 7d')
        olderThanMs = now - from.ms
      }
      return withOutbox(ctx, options, async (outbox) => {
        const pruned = await outbox.prune(olderThanMs)
        if (ctx.io.json) return printJson(ctx.io, { pruned })
        line(ctx.io, `pruned ${pruned} sent row${pruned === 1 ? '' : 's'}`)
      })
    })
}
