import type { EventBus, TopicCreation, TopicSettings } from '@switchyard/core'
import type { Principal } from './auth.js'
import { hasRole } from './auth.js'
import { HttpProblem } from './problem.js'
import type { StateStore, StreamDefinition } from './state/store.js'

/** What a client sends to create a stream (APG's `streams.yaml` entries have the same fields). */
export interface StreamInput {
  /** Stream id, also the topic name. */
  id: string
  /** Human description. */
  description?: string | undefined
  /** Partitions (Kafka). @default 1 */
  partitions?: number | undefined
  /** Retention in milliseconds. */
  retentionMs?: number | undefined
  /** Compression (Kafka). */
  compression?: string | undefined
  /** Cleanup policy (Kafka). */
  cleanupPolicy?: string | undefined
}

/** Stream ids: what every transport accepts as a topic name. */
export const STREAM_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$'
const STREAM_ID = new RegExp(STREAM_ID_PATTERN)

/** Published counts per stream and tenant, per second over the last minute. */
class PublishCounter {
  readonly total = new Map<string, number>()
  private readonly seconds = new Map<string, number[]>()

  add(key: string, count: number, nowSec: number): void {
    this.total.set(key, (this.total.get(key) ?? 0) + count)
    let ring = this.seconds.get(key)
    if (ring === undefined) {
      ring = []
      this.seconds.set(key, ring)
    }
    ring.push(nowSec, count)
    while (ring.length > 0 && ring[0]! < nowSec - 60) ring.splice(0, 2)
  }

  /** Events per second over the last minute. */
  rate(key: string, nowSec: number): number {
    const ring = this.seconds.get(key) ?? []
    let sum = 0
    for (let i = 0; i < ring.length; i += 2) if (ring[i]! >= nowSec - 60) sum += ring[i + 1]!
    return sum / 60
  }
}

/** Stream definitions, cached over the state store, and what the gateway counted of them. */
export class Streams {
  private readonly cache = new Map<string, StreamDefinition>()
  private readonly counter = new PublishCounter()

  constructor(
    private readonly store: StateStore,
    private readonly bus: EventBus,
  ) {}

  /** Loads the definitions and adds the configured ones that are missing. */
  async init(initial: readonly StreamInput[]): Promise<void> {
    for (const input of initial) await this.create(input, undefined)
    for (const stream of await this.store.listStreams()) this.cache.set(stream.id, stream)
  }

  /**
   * Creates the stream's topic on the broker with its settings (partitions, retention,
   * compression, cleanup policy), where the transport has broker-side topics; an existing topic
   * keeps its own. Says which settings the broker took.
   * @throws {ConfigurationError} for a setting the bus refuses.
   */
  provision(stream: StreamInput): Promise<TopicCreation> {
    const settings: TopicSettings = {
      partitions: stream.partitions,
      retentionMs: stream.retentionMs,
      compression: stream.compression as TopicSettings['compression'],
      cleanupPolicy: stream.cleanupPolicy as TopicSettings['cleanupPolicy'],
    }
    return this.bus.createTopic(stream.id, settings)
  }

  /** Creates the topic of every stored stream that the broker lacks (at gateway start). */
  async provisionAll(): Promise<void> {
    for (const stream of await this.list()) await this.provision(stream)
  }

  /** Every stream. */
  async list(): Promise<StreamDefinition[]> {
    const streams = await this.store.listStreams()
    for (const stream of streams) this.cache.set(stream.id, stream)
    return streams
  }

  /** One stream, or undefined. */
  async get(id: string): Promise<StreamDefinition | undefined> {
    const cached = this.cache.get(id)
    if (cached !== undefined) return cached
    const stored = await this.store.getStream(id)
    if (stored !== undefined) this.cache.set(id, stored)
    return stored
  }

  /**
   * Stores a new stream definition; resolves undefined when the id is taken.
   * @throws {HttpProblem} 400 for an id that is not a valid topic name.
   */
  async create(
    input: StreamInput,
    createdBy: string | undefined,
  ): Promise<StreamDefinition | undefined> {
    if (typeof input.id !== 'string' || !STREAM_ID.test(input.id)) {
      throw new HttpProblem(400, `Stream id must match ${STREAM_ID_PATTERN}`)
    }
    const stream: StreamDefinition = {
      id: input.id,
      description: input.description,
      partitions: input.partitions ?? 1,
      retentionMs: input.retentionMs,
      compression: input.compression,
      cleanupPolicy: input.cleanupPolicy,
      createdAt: new Date().toISOString(),
      createdBy,
    }
    const created = await this.store.createStream(stream)
    if (!created) return undefined
    this.cache.set(stream.id, stream)
    return stream
  }

  /** Whether the stream is known without asking the store (a publish to it needs no wait). */
  known(id: string): boolean {
    return this.cache.has(id)
  }

  /**
   * The stream an event is published to: created with default settings for an admin, 404 else.
   * @throws {HttpProblem} 404 when it does not exist and the principal is not an admin.
   */
  async forPublish(id: string, principal: Principal): Promise<StreamDefinition> {
    const existing = await this.get(id)
    if (existing !== undefined) return existing
    if (!hasRole(principal, 'admin', id)) {
      throw new HttpProblem(404, `Stream "${id}" does not exist; an admin can create it`)
    }
    await this.create({ id }, principal.subject)
    return (await this.get(id))!
  }

  /** Counts published events of a stream and tenant. */
  published(id: string, tenant: string | undefined, count: number): void {
    const now = Math.floor(Date.now() / 1000)
    this.counter.add(id, count, now)
    if (tenant !== undefined) this.counter.add(`${id}\u0000${tenant}`, count, now)
  }

  /** Events published through this gateway since it started, and per second over the last minute. */
  publishStats(id: string, tenant: string | undefined): { total: number; ratePerSecond: number } {
    const key = tenant === undefined ? id : `${id}\u0000${tenant}`
    const now = Math.floor(Date.now() / 1000)
    return { total: this.counter.total.get(key) ?? 0, ratePerSecond: this.counter.rate(key, now) }
  }
}
