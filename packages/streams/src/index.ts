export type { JoinResult } from './join-op.js'
export type { StreamOutput, StreamRecord } from './operator.js'
export type {
  AbsenceMatch,
  FollowedMatch,
  Pattern,
  SequenceOptions,
  ThresholdMatch,
} from './pattern-op.js'
export { atLeast, followedBy, notFollowedBy } from './pattern-op.js'
export type {
  PgResultLike,
  PgStoreClient,
  PgStoreOptions,
  PgStorePool,
} from './pg-store.js'
export { pgStore } from './pg-store.js'
export type { ProcessorStats } from './processor.js'
export { Processor, StateConflictError } from './processor.js'
export type { RedisStoreClient, RedisStoreOptions } from './redis-store.js'
export { redisStore } from './redis-store.js'
export type { StreamResult } from './results.js'
export type {
  KeyState,
  LoadedState,
  OutboxItem,
  StateChange,
  StateStore,
  StoredKeyState,
} from './store.js'
export { memoryStore } from './store.js'
export type { JoinOptions, StreamOptions } from './stream.js'
export { Results, Stream, stream, WindowedStream } from './stream.js'
export type { Aggregation, WindowOptions } from './window-op.js'
export type { HoppingWindow, SessionWindow, TumblingWindow, WindowSpec } from './windows.js'
export { hopping, session, tumbling } from './windows.js'
