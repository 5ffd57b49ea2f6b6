export type { OutboxStatus, ParkedRow } from './admin.js'
export {
  deleteParked,
  listParked,
  outboxLag,
  outboxStatus,
  pruneSent,
  requeueParked,
} from './admin.js'
export type { BatchResult } from './batch.js'
export type { OutboxDriver, Queryable } from './driver.js'
export type { PgClientLike, PgDriverOptions, PgPoolLike } from './driver-pg.js'
export { pgDriver } from './driver-pg.js'
export type { PGliteLike } from './driver-pglite.js'
export { pgliteDriver } from './driver-pglite.js'
export type { EnqueueOptions } from './enqueue.js'
export { enqueue } from './enqueue.js'
export type {
  InboxContext,
  InboxPruneOptions,
  PgInboxStore,
  PgInboxStoreOptions,
} from './inbox.js'
export { pgInboxStore } from './inbox.js'
export { inboxMigrationSql, migrateInbox } from './inbox-schema.js'
export type { RelayHooks, RelayOptions, RelayTarget } from './options.js'
export type {
  EventPublisher,
  GetEventPublisherOptions,
  OutboxEnv,
  OutboxPublisherOptions,
} from './publisher.js'
export { createOutboxPublisher, getEventPublisher, outboxFromEnv } from './publisher.js'
export type { RelayStats } from './relay.js'
export { createRelay, OutboxRelay } from './relay.js'
export type { MigrationTarget } from './schema.js'
export { LANES, migrate, migrationSql } from './schema.js'
