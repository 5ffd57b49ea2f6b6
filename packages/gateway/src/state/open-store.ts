import { mkdir } from 'node:fs/promises'
import { type SqlClient, sqlStateStore } from './sql-store.js'
import type { StateStore } from './store.js'

/** Where the gateway keeps its state. */
export interface StateOptions {
  /** PostgreSQL connection string (`DATABASE_URL`); PGlite is used when absent. */
  databaseUrl?: string | undefined
  /** Directory of the PGlite database; `undefined` keeps it in memory. */
  dataDir?: string | undefined
  /** Table name prefix. @default 'switchyard_gateway' */
  tablePrefix?: string
}

/**
 * Opens and migrates the state store: PostgreSQL through `pg` when `databaseUrl` is set, else
 * PGlite (on disk at `dataDir`, or in memory). Both are peer dependencies, loaded when used.
 */
export async function openStateStore(options: StateOptions): Promise<StateStore> {
  const prefix = options.tablePrefix === undefined ? {} : { tablePrefix: options.tablePrefix }
  let store: StateStore
  if (options.databaseUrl !== undefined && options.databaseUrl !== '') {
    const pg = (await import('pg')) as unknown as {
      Pool?: PoolClass
      default?: { Pool: PoolClass }
    }
    const Pool = pg.Pool ?? pg.default!.Pool
    const pool = new Pool({ connectionString: options.databaseUrl, max: 4 })
    // Idle clients report a lost server here; the pool replaces them on the next query.
    pool.on('error', () => undefined)
    store = sqlStateStore({ client: pool, kind: 'postgres', ...prefix, close: () => pool.end() })
  } else {
    const { PGlite } = await import('@electric-sql/pglite')
    if (options.dataDir !== undefined) await mkdir(options.dataDir, { recursive: true })
    const db = new PGlite(options.dataDir)
    store = sqlStateStore({ client: db, kind: 'pglite', ...prefix, close: () => db.close() })
  }
  try {
    await store.migrate()
  } catch (error) {
    await store.close().catch(() => undefined)
    throw error
  }
  return store
}

type PoolClass = new (config: {
  connectionString: string
  max: number
}) => SqlClient & {
  on(event: 'error', listener: (error: Error) => void): unknown
  end(): Promise<void>
}
