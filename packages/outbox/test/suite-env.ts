import type { Middleware } from '@switchyard/core'
import type { createRelay, OutboxDriver, RelayOptions } from '../src/index.js'
import type { harness } from './support.js'

/** One database behind the outbox: PostgreSQL through `pg`, or PGlite. */
export interface StoreFixture {
  /** The driver relays and tests use. */
  driver: OutboxDriver
  /** A driver for a second relay (its own pool on PostgreSQL; the same instance on PGlite). */
  another(): OutboxDriver
  /**
   * A driver whose sessions have `idle_in_transaction_session_timeout` set to `ms`, so a claim
   * transaction idle for longer (publishing) is ended by the server. PGlite accepts the setting
   * but, single-user and in-process, never ends its one session.
   */
  idleTimeout(ms: number): Promise<OutboxDriver>
  /**
   * A driver whose database goes out of reach at `cut()`: a closed port on PostgreSQL (out of
   * reach from the start), a migrated PGlite instance that `cut()` closes.
   */
  unreachable(): Promise<{ driver: OutboxDriver; cut(): Promise<void> }>
  close(): Promise<void>
}

/** What the scenario files get: the open fixture (or why it is skipped) and a per-test setup. */
export interface SuiteEnv {
  readonly fx: StoreFixture
  readonly skip: string | undefined
  setup(
    extra?: Partial<RelayOptions>,
    topics?: string[],
    middleware?: Middleware[],
  ): Promise<{
    table: string
    h: Awaited<ReturnType<typeof harness>>
    bus: ReturnType<Awaited<ReturnType<typeof harness>>['producer']>
    relay: ReturnType<typeof createRelay>
    cleanup(): Promise<void>
  }>
}
