/**
 * Anything that runs one SQL statement with positional parameters: a `pg` `Client`, `PoolClient`
 * or `Pool`, a PGlite instance, or the `tx` of `PGlite.transaction()`. `enqueue` writes through
 * it, so the outbox row joins whatever transaction the caller has open on it.
 */
export interface Queryable {
  /** Runs one statement; `params` fill `$1`, `$2`, ... */
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>
}

/** What the relay needs from a database: short transactions and a notification channel. */
export interface OutboxDriver {
  /** `pg` or `pglite`, for logs. */
  readonly name: string
  /** Runs a statement outside any transaction (autocommit). */
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>
  /** Runs several statements separated by `;` at once, as one implicit transaction. */
  exec(sql: string): Promise<void>
  /** Runs `fn` inside `BEGIN ... COMMIT` on one connection; rolls back when `fn` throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  /**
   * Calls `onNotify` for every notification on `channel` and once after each (re)connection,
   * since notifications sent while disconnected are lost. Resolves with an unsubscribe function.
   */
  listen(
    channel: string,
    onNotify: () => void,
    onError: (error: Error) => void,
  ): Promise<() => Promise<void>>
  /** Releases what the driver opened itself; a pool or PGlite instance passed in stays open. */
  close(): Promise<void>
}

/** A row as the relay reads it back. */
export interface OutboxRow {
  /** Position in the outbox, as text (int8 arrives as a string from `pg`, a number from PGlite). */
  seq: string
  /** Event id. */
  id: string
  /** Destination topic. */
  topic: string
  /** Partition key, or null when the event has none. */
  partition_key: string | null
  /** Encoded headers (CloudEvents binary mode). */
  headers: Record<string, string>
  /** Encoded body. */
  payload: Uint8Array
  /** Failed publish attempts so far. */
  attempts: number
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
