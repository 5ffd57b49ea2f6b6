import {
  type ConsumerConfig,
  JetStreamApiCodes,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream'
import { nanos } from '@nats-io/transport-node'
import { ConfigurationError, type StartAt, type TopicSettings } from '@switchyard/core/transport'
import { apiCode } from './errors.js'
import {
  autoStreamName,
  consumerName,
  covers,
  deliverPolicy,
  GROUP_MARK,
  subjectsFor,
} from './mapping.js'
import type { ResolvedNatsOptions, StreamDefinition, StreamLimits } from './options.js'

const SUBJECTS_OVERLAP = 10065
const NAME_IN_USE = 10058

/** What the connected nats-server supports, detected from its version, never assumed. */
export interface NatsServerFeatures {
  /** The server's version string, e.g. `2.9.10`. */
  version: string
  /** Several filter subjects on one consumer (`filter_subjects`), nats-server 2.10+. */
  multipleFilterSubjects: boolean
}

/** Features of a server of this version. */
export function serverFeatures(version: string): NatsServerFeatures {
  const [major = 0, minor = 0] = version
    .replace(/^v/, '')
    .split('.')
    .map((part) => Number.parseInt(part, 10) || 0)
  return { version, multipleFilterSubjects: major > 2 || (major === 2 && minor >= 10) }
}

function limited(limit: number | undefined): boolean {
  return limit !== undefined && limit > 0
}

/** Stream settings from our limits; unset limits are left to the server's defaults. */
function streamConfig(l: StreamLimits): Partial<StreamConfig> {
  const entries = {
    max_msgs: l.maxMsgs,
    max_bytes: l.maxBytes,
    max_age: l.maxAgeMs === undefined ? undefined : nanos(l.maxAgeMs),
    max_msg_size: l.maxMsgSize,
    storage: l.storage,
    num_replicas: l.replicas,
    duplicate_window: l.duplicateWindowMs === undefined ? undefined : nanos(l.duplicateWindowMs),
    // The server's default drops the oldest message at a limit, read or not: refuse new ones
    // instead unless dropping was asked for.
    discard: l.discard ?? (limited(l.maxMsgs) || limited(l.maxBytes) ? 'new' : undefined),
  }
  return Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined))
}

/**
 * Finds the stream that stores a subject, creating one when none does, and the durable consumer
 * of a group. Declared streams are created or updated on connect; other subjects are looked up
 * on the server (another process may have created the stream), and only then get their own.
 */
export class StreamRegistry {
  private readonly known = new Map<string, string[]>()
  private readonly bySubject = new Map<string, Promise<string | undefined>>()

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly options: ResolvedNatsOptions,
    private readonly server: NatsServerFeatures,
  ) {}

  /**
   * Creates or updates the declared streams.
   * @throws {ConfigurationError} for a stream that does not exist and has no subjects to create it.
   */
  async declare(): Promise<void> {
    for (const def of this.options.streams) this.known.set(def.name, await this.declareOne(def))
  }

  /**
   * The stream storing `subject`, created when `create` and none does; `undefined` when none
   * does and `create` is false.
   * @throws {ConfigurationError} when the subject spans several streams, or none does and auto
   * streams are off.
   */
  resolve(subject: string, create = true): Promise<string | undefined> {
    const cached = this.bySubject.get(subject)
    if (cached !== undefined) return cached
    const found = this.lookup(subject, create)
    this.bySubject.set(subject, found)
    const forget = () => this.bySubject.delete(subject)
    void found.then((name) => name ?? forget(), forget)
    return found
  }

  /** Forgets a cached answer, after the stream stopped answering. */
  forget(subject: string): void {
    this.bySubject.delete(subject)
  }

  /**
   * The stream and durable consumer a group reads a topic from, created per `startAt` when new;
   * `ensure` creates the consumer again when the server lost it.
   * @throws {ConfigurationError} when the topic's subjects are in several streams or need a newer
   * server.
   */
  async consumer(topic: string, group: string, startAt: StartAt) {
    const subjects = subjectsFor(topic, this.options.subjects)
    if (subjects.length > 1 && !this.server.multipleFilterSubjects) {
      throw new ConfigurationError(
        `Topic "${topic}" reads ${subjects.length} subjects; several filter subjects per ` +
          `consumer need nats-server 2.10 or newer (connected to ${this.server.version}). ` +
          'Map it to one wildcard subject instead.',
        { field: 'subjects' },
      )
    }
    const streams = new Set(await Promise.all(subjects.map((s) => this.resolve(s))))
    if (streams.size !== 1) {
      throw new ConfigurationError(
        `Topic "${topic}" reads subjects stored in different streams ` +
          `(${[...streams].join(', ')}); one consumer reads one stream`,
        { field: 'subjects' },
      )
    }
    const stream = [...streams][0]!
    const consumer = consumerName(group, subjects)
    const config: Partial<ConsumerConfig> = {
      durable_name: consumer,
      description: `${GROUP_MARK}${group}`,
      ack_policy: 'explicit',
      ack_wait: nanos(this.options.ackWaitMs),
      max_deliver: this.options.maxDeliver,
      max_ack_pending: this.options.maxAckPending,
      ...(subjects.length === 1 ? { filter_subject: subjects[0]! } : { filter_subjects: subjects }),
      ...deliverPolicy(startAt),
    }
    const ensure = async () => {
      const found = await this.jsm.consumers.info(stream, consumer).catch((error: unknown) => {
        if (apiCode(error) !== JetStreamApiCodes.ConsumerNotFound) throw error
      })
      if (found !== undefined) return
      await this.jsm.consumers.add(stream, config).catch((error: unknown) =>
        // Another member of the group created it first (maybe with its own startAt): join that.
        this.jsm.consumers.info(stream, consumer).catch(() => {
          throw error
        }),
      )
    }
    await ensure()
    return { stream, consumer, ensure }
  }

  private async declareOne(def: StreamDefinition): Promise<string[]> {
    const wanted = { ...streamConfig(def), ...(def.subjects && { subjects: [...def.subjects] }) }
    let info = await this.jsm.streams.info(def.name).catch((error: unknown) => {
      if (apiCode(error) !== JetStreamApiCodes.StreamNotFound) throw error
    })
    if (info === undefined) {
      if (def.subjects === undefined) {
        throw new ConfigurationError(
          `Stream "${def.name}" does not exist; give its subjects to let the transport create it`,
          { field: 'streams.subjects' },
        )
      }
      info = await this.jsm.streams.add({ name: def.name, ...wanted }).catch(async (error) => {
        if (apiCode(error) !== NAME_IN_USE) throw error
        return this.jsm.streams.info(def.name)
      })
    }
    const current = info.config as unknown as Record<string, unknown>
    if (Object.entries(wanted).some(([k, v]) => JSON.stringify(current[k]) !== JSON.stringify(v))) {
      info = await this.jsm.streams.update(def.name, wanted)
    }
    return info.config.subjects ?? []
  }

  private async lookup(subject: string, create: boolean): Promise<string | undefined> {
    for (const [name, subjects] of this.known) {
      if (subjects.some((pattern) => covers(pattern, subject))) return name
    }
    const existing = await this.onServer(subject)
    if (existing !== undefined || !create) return existing
    const auto = this.options.autoStreams
    if (auto === false) {
      throw new ConfigurationError(
        `No stream stores "${subject}": declare one in the streams option, or allow autoStreams`,
        { field: 'streams' },
      )
    }
    const { prefix, ...limits } = auto
    return (await this.addStream(subject, prefix, streamConfig(limits))).name
  }

  /**
   * Creates the stream of a topic with broker settings (`bus.createTopic`) unless one stores it
   * already: `retentionMs` is `max_age`, `replicationFactor` the replicas, `compression` S2.
   * @throws {ConfigurationError} when the topic maps to several subjects.
   */
  async createTopic(topic: string, settings: TopicSettings) {
    const subjects = subjectsFor(topic, this.options.subjects)
    if (subjects.length !== 1) {
      throw new ConfigurationError(
        `Topic "${topic}" maps to ${subjects.length} subjects; declare its stream in the streams option`,
        { field: 'subjects' },
      )
    }
    const subject = subjects[0]!
    const none = { created: false, applied: [] as (keyof TopicSettings)[] }
    if ((await this.resolve(subject, false)) !== undefined) return none
    const auto: StreamLimits & { prefix?: string } = this.options.autoStreams || {}
    const { prefix = 'SY_', ...limits } = auto
    const applied: (keyof TopicSettings)[] = []
    if (settings.retentionMs !== undefined) {
      limits.maxAgeMs = settings.retentionMs
      applied.push('retentionMs')
    }
    if (settings.replicationFactor !== undefined) {
      limits.replicas = settings.replicationFactor
      applied.push('replicationFactor')
    }
    const config = streamConfig(limits)
    if (settings.compression !== undefined && this.server.multipleFilterSubjects) {
      // Stream compression came with nats-server 2.10, like several filter subjects.
      applied.push('compression')
      Object.assign(config, { compression: settings.compression === 'none' ? 'none' : 's2' })
    }
    const { name, created } = await this.addStream(subject, prefix, config)
    this.bySubject.set(subject, Promise.resolve(name))
    return created ? { created, applied } : none
  }

  private async addStream(subject: string, prefix: string, config: Partial<StreamConfig>) {
    const name = autoStreamName(prefix, subject)
    try {
      await this.jsm.streams.add({ name, subjects: [subject], ...config })
      return { name, created: true }
    } catch (error) {
      // Another process won the race, with a stream of its own or this very one.
      const winner = [SUBJECTS_OVERLAP, NAME_IN_USE].includes(apiCode(error) ?? 0)
        ? await this.onServer(subject)
        : undefined
      if (winner === undefined) throw error
      return { name: winner, created: false }
    }
  }

  private async onServer(subject: string): Promise<string | undefined> {
    const names: string[] = []
    for await (const name of this.jsm.streams.names(subject)) names.push(name)
    if (names.length === 0) return undefined
    if (names.length === 1) {
      const info = await this.jsm.streams.info(names[0]!)
      if ((info.config.subjects ?? []).some((pattern) => covers(pattern, subject))) return names[0]
    }
    throw new ConfigurationError(
      `"${subject}" spans streams ${names.join(', ')}; declare one stream whose subjects cover it`,
      { field: 'streams' },
    )
  }
}
