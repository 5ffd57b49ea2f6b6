import type { DeadLetterRecord } from '@switchyard/core'
import type { Context } from '../context.js'
import { UsageError } from '../exit-codes.js'
import { excerpt, printTable } from '../io.js'

/** Options shared by the `dlq` commands. */
export interface DlqOptions {
  filter?: string[]
  limit?: string
  dryRun?: boolean
  wait?: string
}

/** `--limit` as a number, or `fallback`. */
export function limitOf(options: DlqOptions, fallback: number): number {
  if (options.limit === undefined) return fallback
  const n = Number(options.limit)
  if (!Number.isInteger(n) || n <= 0) throw new UsageError('--limit must be a whole number above 0')
  return n
}

function rows(entries: readonly DeadLetterRecord[]) {
  return entries.map((e) => [
    e.id,
    e.deadLetteredAt,
    e.event?.type ?? null,
    e.group,
    e.attempts,
    excerpt(`${e.error.name}: ${e.error.message}`, 60),
  ])
}

/** Prints entries as a table (or JSON). */
export function printEntries(ctx: Context, entries: readonly DeadLetterRecord[]): void {
  printTable(
    ctx.io,
    ['ID', 'DEAD-LETTERED AT', 'TYPE', 'GROUP', 'ATTEMPTS', 'ERROR'],
    rows(entries),
  )
}
