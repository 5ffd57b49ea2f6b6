import type { OutboxDriver } from '../src/index.js'

/** One database behind the store: PostgreSQL through `pg`, or PGlite. */
export interface StoreFixture {
  /** The driver stores use. */
  driver: OutboxDriver
  /** A second driver on the same database (its own pool; the same instance on PGlite). */
  another(): OutboxDriver
  /**
   * Whether transactions run side by side (PostgreSQL) or one after another (PGlite's single
   * connection): the late-commit scenarios need the first.
   */
  concurrent: boolean
  close(): Promise<void>
}

/** What the scenario files get. */
export interface SuiteEnv {
  readonly fx: StoreFixture
  readonly skip: string | undefined
}
