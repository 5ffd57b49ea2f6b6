import { ConfigurationError } from '@switchyard/core'
import type { OutboxDriver, Queryable } from './driver.js'

/** The parts of a PGlite instance the driver uses (`@electric-sql/pglite` 0.3). */
export interface PGliteLike extends Queryable {
  /** Runs a multi-statement script. */
  exec(sql: string): Promise<unknown>
  /** Runs `fn` in a transaction; PGlite serialises transactions on its single connection. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  /** Subscribes to a notification channel; resolves with an unsubscribe function. */
  listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>
}

/**
 * The relay's driver for PGlite, PostgreSQL compiled to WASM running inside the process: the
 * embedded default for demos, tests and single-process apps. The instance stays yours to close.
 * @example
 * const db = new PGlite()
 * await migrate(db)
 * const relay = createRelay({ driver: pgliteDriver(db), bus })
 * @throws {ConfigurationError} when `db` is not a PGlite instance.
 */
export function pgliteDriver(db: PGliteLike): OutboxDriver {
  if (
    db === null ||
    typeof db !== 'object' ||
    typeof db.transaction !== 'function' ||
    typeof db.listen !== 'function'
  ) {
    throw new ConfigurationError('pgliteDriver needs a PGlite instance (new PGlite())', {
      field: 'db',
    })
  }
  return {
    name: 'pglite',
    query: (text, params) => db.query(text, params),
    exec: async (sql) => {
      await db.exec(sql)
    },
    // PGlite has one connection: while the relay holds a claim transaction (publishing included)
    // the application's own queries wait. Keep batches small when the app shares the instance.
    transaction: (fn) => db.transaction(fn),
    async listen(channel, onNotify) {
      const unlisten = await db.listen(channel, () => onNotify())
      onNotify()
      return unlisten
    },
    close: async () => undefined,
  }
}
