import { ConnectionError } from '@switchyard/core'
import type { Queryable } from '@switchyard/outbox'
import type { Command } from 'commander'
import { type Context, directOnly } from '../context.js'
import { NotFoundError, UsageError } from '../exit-codes.js'
import { age, line, printJson, printTable } from '../io.js'
import { parseFrom } from '../tail-reader.js'

interface OutboxOptions {
  database?: string
  table?: string
  limit?: string
  id?: string[]
  all?: boolean
  olderThan?: string
}

/** Runs `work` on a pg pool of `--database`, else `SWITCHYARD_POSTGRES_URL`/`DATABASE_URL`. */
async function withDatabase<T>(
  ctx: Context,
  options: OutboxOptions,
  work: (db: Queryable, outbox: typeof import('@switchyard/outbox')) => Promise<T>,
): Promise<T> {
  directOnly(ctx, 'outbox')
  const outbox = await import('@switchyard/outbox')
  const url = options.database ?? outbox.outboxFromEnv(ctx.io.env).connectionString
  if (url === undefined || url === '')
    throw new UsageError('The outbox commands need a database: set DATABASE_URL or pass --database')
  let Pool: typeof import('pg').Pool
  try {
    const pg = await import('pg')
    Pool = (pg.default ?? pg).Pool
  } catch {
    throw new UsageError('The outbox commands need the pg client: npm install pg')
  }
  const pool = new Pool({ connectionString: url, connectionTimeoutMillis: ctx.timeoutMs, max: 1 })
  pool.on('error', () => undefined)
  try {
    await pool.query('SELECT 1').catch((error: unknown) => {
      throw new ConnectionError('Cannot connect to the outbox database', { cause: error })
    })
    return await work(pool, outbox).catch((error: { code?: string }) => {
      if (error?.code === '42P01')
        throw new NotFoundError(
          `Outbox table "${options.table ?? 'outbox'}" does not exist: create it with migrate() from @switchyard/outbox, or pass --table`,
        )
      throw error
    })
  } finally {
    await pool.end().catch(() => undefined)
  }
}

function tableOf(options: OutboxOptions): { table?: string } {
  return options.table === undefined ? {} : { table: options.table }
}

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
      return withDatabase(ctx, options, async (pool, o) => {
        const s = await o.outboxStatus(pool, tableOf(options))
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
      return withDatabase(ctx, options, async (pool, o) => {
        const rows = await o.listParked(pool, { ...tableOf(options), limit })
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
      return withDatabase(ctx, options, async (pool, o) => {
        const ids = options.id === undefined ? {} : { ids: options.id }
        const requeued = await o.requeueParked(pool, { ...tableOf(options), ...ids })
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
      return withDatabase(ctx, options, async (pool, o) => {
        const pruned = await o.pruneSent(pool, { ...tableOf(options), olderThanMs })
        if (ctx.io.json) return printJson(ctx.io, { pruned })
        line(ctx.io, `pruned ${pruned} sent row${pruned === 1 ? '' : 's'}`)
      })
    })
}
