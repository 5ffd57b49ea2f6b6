import type { Middleware } from '@switchyard/core'
import type { createRelay, OutboxDriver, RelayOptions } from '../src/index.js'
import type { harness } from './support.js'

/** One database behind the outbox: PostgreSQL through `pg`, or PGlite. */
export interface StoreFixture {
  /** The driver relays and tests use. */
  driver: OutboxDriver
  /** A driver for a second relay (its own pool on PostgreSQL; the same instance on PGlite). */
  another(): OutboxDriver
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
