import type { SubscriptionStore } from '../subscriptions/definition.js'

/** A stream: a topic with the settings APG's `streams.yaml` gives it. */
export interface StreamDefinition {
  /** Stream id, also the topic name. */
  id: string
  /** Human description. */
  description?: string | undefined
  /** Partitions, where the broker has them (Kafka). @default 1 */
  partitions: number
  /** Retention in milliseconds; `undefined` keeps the broker default. */
  retentionMs?: number | undefined
  /** Compression, where the broker has it (`none`, `gzip`, `lz4`, `zstd`, `snappy`). */
  compression?: string | undefined
  /** Cleanup policy, where the broker has it (`delete`, `compact`). */
  cleanupPolicy?: string | undefined
  /** When it was created, ISO. */
  createdAt: string
  /** Who created it (token subject). */
  createdBy?: string | undefined
}

/** A schema version as stored. */
export interface StoredSchema {
  /** Event type (or a `*` pattern). */
  eventType: string
  /** Version, from 1. */
  version: number
  /** The JSON Schema document. */
  schema: Record<string, unknown> | boolean
  /** Human description. */
  description?: string | undefined
  /** When it was registered, ISO. */
  createdAt: string
}

/** The gateway's own state: stream definitions, registered schemas and subscriptions. */
export interface StateStore {
  /** `pglite` or `postgres`, for health and status. */
  readonly kind: string
  /** Creates the tables when missing. */
  migrate(): Promise<void>
  /** Every stream, by id. */
  listStreams(): Promise<StreamDefinition[]>
  /** One stream, or undefined. */
  getStream(id: string): Promise<StreamDefinition | undefined>
  /** Stores a new stream; resolves false when one with this id exists already. */
  createStream(stream: StreamDefinition): Promise<boolean>
  /** Every registered schema version, ordered by type and version. */
  listSchemas(): Promise<StoredSchema[]>
  /** Stores a schema version; resolves false when this type and version exist already. */
  addSchema(schema: StoredSchema): Promise<boolean>
  /** Subscription definitions, their paused flag and counters. */
  readonly subscriptions: SubscriptionStore
  /** Probes the database. */
  health(): Promise<{ status: 'up' | 'down'; detail?: string }>
  /** Closes what the store opened. */
  close(): Promise<void>
}
