import { ConfigurationError, ConnectionError } from '@switchyard/core'
import { type OutboxDriver, type Queryable, sleep } from './driver.js'

/** The parts of a `pg` `PoolClient` the driver uses. */
export interface PgClientLike extends Queryable {
  /** Returns the client to the pool; an error (or `true`) destroys it instead. */
  release(destroy?: Error | boolean): void
  /** Subscribes to client events (typed loosely so a real `pg.PoolClient` fits). */
  on(event: string, listener: (...args: unknown[]) => void): unknown
  /** Unsubscribes. */
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown
}

/** The parts of a `pg` `Pool` the driver uses. */
export interface PgPoolLike extends Queryable {
  /** Checks a client out. */
  connect(): Promise<PgClientLike>
  /** Closes every client. */
  end(): Promise<void>
}

/** Options of `pgDriver`: bring a pool, or let the driver open one. */
export interface PgDriverOptions {
  /** Your `pg.Pool`; it stays open when the driver closes. Give it at least 2 connections. */
  pool?: PgPoolLike
  /** Connection string for a pool the driver opens (and closes). */
  connectionString?: string
  /** Size of the pool the driver opens. @default 4 */
  max?: number
  /** Delay between attempts to re-establish `LISTEN` after losing the connection. @default 500 */
  reconnectDelayMs?: number
}

/**
 * The relay's driver for PostgreSQL through `pg` (a peer dependency, loaded only when used).
 * @example
 * const relay = createRelay({ driver: pgDriver({ connectionString: process.env.DATABASE_URL }), bus })
 * @throws {ConfigurationError} when neither `pool` nor `connectionString` is given.
 */
export function pgDriver(options: PgDriverOptions): OutboxDriver {
  if (options?.pool === undefined && typeof options?.connectionString !== 'string') {
    throw new ConfigurationError('pgDriver needs { pool } or { connectionString }', {
      field: 'pgDriver',
    })
  }
  const reconnectDelayMs = options.reconnectDelayMs ?? 500
  const owned = options.pool === undefined
  let pool: Promise<PgPoolLike> | undefined
  const getPool = (): Promise<PgPoolLike> => {
    pool ??= options.pool !== undefined ? Promise.resolve(options.pool) : openPool(options)
    return pool
  }
  return {
    name: 'pg',
    query: async (text, params) => (await getPool()).query(text, params),
    exec: async (sql) => {
      await (await getPool()).query(sql)
    },
    async transaction(fn) {
      const client = await (await getPool()).connect()
      // A connection that dies while idle in our transaction (server restart) emits 'error';
      // without a listener that would crash the process.
      let lost: Error | undefined
      const onError = (...args: unknown[]) => {
        lost = args[0] as Error
      }
      client.on('error', onError)
      try {
        await client.query('BEGIN')
        const result = await fn(client)
        await client.query('COMMIT')
        return result
      } catch (error) {
        await client.query('ROLLBACK').catch((e: Error) => {
          lost ??= e
        })
        throw error
      } finally {
        client.removeListener('error', onError)
        client.release(lost ?? false)
      }
    },
    async listen(channel, onNotify, onError) {
      let stopped = false
      let current: PgClientLike | undefined
      const drop = (client: PgClientLike, error: Error, retry: boolean) => {
        if (current !== client) return
        current = undefined
        client.release(error)
        if (stopped) return
        onError(
          new ConnectionError(`LISTEN on "${channel}" lost: ${error.message}`, { cause: error }),
        )
        if (retry) void reattach()
      }
      const attach = async (): Promise<boolean> => {
        let client: PgClientLike | undefined
        try {
          client = await (await getPool()).connect()
          current = client
          const mine = client
          client.on('notification', onNotify)
          client.on('error', (...args: unknown[]) => drop(mine, args[0] as Error, true))
          await client.query(`LISTEN "${channel}"`)
          if (stopped) {
            current = undefined
            client.release()
          } else onNotify()
          return true
        } catch (error) {
          if (client !== undefined) drop(client, error as Error, false)
          else if (!stopped)
            onError(
              new ConnectionError(`LISTEN failed: ${(error as Error).message}`, { cause: error }),
            )
          return false
        }
      }
      // Keeps trying in the background; the relay's poll interval covers the gap meanwhile.
      let reattaching = false
      const reattach = async (): Promise<void> => {
        if (reattaching) return
        reattaching = true
        do await sleep(reconnectDelayMs)
        while (!stopped && current === undefined && !(await attach()))
        reattaching = false
      }
      if (!(await attach()) && current === undefined) void reattach()
      return async () => {
        stopped = true
        const client = current
        current = undefined
        if (client === undefined) return
        try {
          await client.query(`UNLISTEN "${channel}"`)
          client.release()
        } catch (error) {
          client.release(error as Error)
        }
      }
    },
    async close() {
      if (owned && pool !== undefined) await (await pool).end()
    },
  }
}

async function openPool(options: PgDriverOptions): Promise<PgPoolLike> {
  const pg = (await import('pg')) as unknown as { Pool?: PoolClass; default?: { Pool: PoolClass } }
  const Pool = pg.Pool ?? pg.default!.Pool
  const pool = new Pool({ connectionString: options.connectionString, max: options.max ?? 4 })
  // Idle clients report a lost server here; the pool replaces them on the next connect().
  pool.on('error', () => undefined)
  return pool
}

type PoolClass = new (config: {
  connectionString: string | undefined
  max: number
}) => PgPoolLike & { on(event: 'error', listener: (error: Error) => void): unknown }
