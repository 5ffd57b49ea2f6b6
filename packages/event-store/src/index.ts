// `@switchyard/event-store`: streams, the global order, subscriptions, projections, the archive.
export type { OutboxDriver, PGliteLike, PgDriverOptions, Queryable } from '@switchyard/outbox'
export { pgDriver, pgliteDriver } from '@switchyard/outbox'
export type { AggregateOptions, AggregateResult, SnapshotOptions } from './aggregate.js'
export type { AppendOptions, AppendResult } from './append.js'
export type { Archive, ArchiveOptions, ArchiveTarget } from './archive.js'
export { archive } from './archive.js'
export type { ExpectedVersion } from './errors.js'
export { DuplicateEventError, StreamTenantError, WrongExpectedVersionError } from './errors.js'
export type { EventFilter } from './filter.js'
export type { AggregateRef } from './names.js'
export { aggregateOf } from './names.js'
export type { EventStoreOptions, EventStoreOutboxOptions, StreamRef } from './options.js'
export type {
  Projection,
  ProjectionContext,
  ProjectionRunner,
  ProjectionRunOptions,
} from './projections.js'
export type { EventPage, EventQuery } from './query.js'
export type {
  ReadAllOptions,
  ReadAllResult,
  ReadStreamOptions,
  ReadStreamResult,
} from './read.js'
export type { RecordResult } from './record.js'
export type { RecordedEvent } from './recorded.js'
export type { ReplayOptions, ReplayProgress, ReplaySource, ReplayTarget } from './replay.js'
export { replay } from './replay.js'
export type { EventStoreMigrationTarget } from './schema.js'
export { eventStoreMigrationSql, migrateEventStore } from './schema.js'
export { createEventStore, EventStore } from './store.js'
export type { AllHandler, AllSubscription, SubscribeToAllOptions } from './subscribe.js'
