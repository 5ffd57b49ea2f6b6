import { ConnectionError } from '@switchyard/core'
import type { OutboxStatus, ParkedRow } from '@switchyard/outbox'
import type { Context } from './context.js'
import { NotFoundError, UsageError } from './exit-codes.js'
import { gatewayCall } from './gateway-client.js'

/** Options of the `outbox` commands. */
export interface OutboxOptions {
  database?: string
  table?: string
  limit?: string
  id?: string[]
  all?: boolean
  olderThan?: string
}

/** What the `outbox` commands do, against the database or through a gateway. */
export interface OutboxBackend {
  status(): Promise<OutboxStatus>
  parked(limit: number): Promise<ParkedRow[]>
  /** Requeues the rows `ids`, or every parked row. */
  requeue(ids: readonly string[] | undefined): Promise<number>
  prune(olderThanMs: number): Promise<number>
}

/** Runs `work` on the outbox of `--gateway`, or of `--database` / `DATABASE_URL`. */
export function withOutbox<T>(
  ctx: Context,
  options: OutboxOptions,
  work: (outbox: OutboxBackend) => Promise<T>,
): Promise<T> {
  return ctx.options.gateway === undefined
    ? withDatabase(ctx, options, work)
    : work(gatewayOutbox(ctx))
}

async function withDatabase<T>(
  ctx: Context,
  options: OutboxOptions,
  work: (outbox: OutboxBackend) => Promise<T>,
): Promise<T> {
  // Loaded on use, like pg: the other commands do not pay for them.
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
  const table = options.table === undefined ? {} : { table: options.table }
  const backend: OutboxBackend = {
    status: () => outbox.outboxStatus(pool, table),
    parked: (limit) => outbox.listParked(pool, { ...table, limit }),
    requeue: (ids) => outbox.requeueParked(pool, ids === undefined ? table : { ...table, ids }),
    prune: (olderThanMs) => outbox.pruneSent(pool, { ...table, olderThanMs }),
  }
  try {
    await pool.query('SELECT 1').catch((error: unknown) => {
      throw new ConnectionError('Cannot connect to the outbox database', { cause: error })
    })
    return await work(backend).catch((error: { code?: string }) => {
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

interface GatewayParked {
  id: string
  topic: string
  partition_key: string | null
  attempts: number
  last_error: string | null
  created_at: string
  parked_at: string
}

/** The gateway's `/api/v1/outbox` routes, answering in the shapes of `@switchyard/outbox`. */
function gatewayOutbox(ctx: Context): OutboxBackend {
  const parked = async (limit: number): Promise<ParkedRow[]> => {
    const body = (await gatewayCall(
      ctx,
      `api/v1/outbox/parked?limit=${Math.min(limit, 1000)}`,
    )) as {
      parked: GatewayParked[]
    }
    return body.parked.map((r) => ({
      id: r.id,
      topic: r.topic,
      partitionKey: r.partition_key,
      attempts: r.attempts,
      lastError: r.last_error,
      createdAt: new Date(r.created_at),
      parkedAt: new Date(r.parked_at),
    }))
  }
  return {
    status: async () => {
      const s = (await gatewayCall(ctx, 'api/v1/outbox')) as Record<string, number>
      return {
        pending: s.pending!,
        pendingLagMs: s.pending_lag_ms!,
        parked: s.parked!,
        parkedLagMs: s.parked_lag_ms!,
      }
    },
    parked,
    requeue: async (given) => {
      const ids = given ?? (await parked(1000)).map((r) => r.id)
      if (ids.length === 0) return 0
      const body = (await gatewayCall(ctx, 'api/v1/outbox/parked/requeue', {
        method: 'POST',
        body: JSON.stringify({ ids }),
        contentType: 'application/json',
      })) as { requeued: number }
      return body.requeued
    },
    prune: () => {
      throw new UsageError(
        '"outbox prune" cannot go through a gateway yet: the gateway has no route for it. Use --database or DATABASE_URL',
      )
    },
  }
}
