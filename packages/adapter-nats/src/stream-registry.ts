import {
  JetStreamApiCodes,
  type JetStreamManager,
  type StreamConfig,
  type StreamUpdateConfig,
} from '@nats-io/jetstream'
import { nanos } from '@nats-io/transport-node'
import { ConfigurationError } from '@switchyard/core/transport'
import { apiCode } from './errors.js'
import { autoStreamName, covers } from './mapping.js'
import type { ResolvedNatsOptions, StreamDefinition, StreamLimits } from './options.js'

const SUBJECTS_OVERLAP = 10065
const NAME_IN_USE = 10058

/** Stream settings from our limits; unset limits are left to the server's defaults. */
function streamConfig(limits: StreamLimits): Partial<StreamConfig> {
  const config: Partial<StreamConfig> = {}
  if (limits.maxMsgs !== undefined) config.max_msgs = limits.maxMsgs
  if (limits.maxBytes !== undefined) config.max_bytes = limits.maxBytes
  if (limits.maxAgeMs !== undefined) config.max_age = nanos(limits.maxAgeMs)
  if (limits.maxMsgSize !== undefined) config.max_msg_size = limits.maxMsgSize
  if (limits.storage !== undefined) config.storage = limits.storage
  if (limits.replicas !== undefined) config.num_replicas = limits.replicas
  if (limits.duplicateWindowMs !== undefined)
    config.duplicate_window = nanos(limits.duplicateWindowMs)
  if (limits.discard !== undefined) config.discard = limits.discard
  return config
}

/**
 * Finds the stream that stores a subject, creating one when none does. Declared streams are
 * created or updated on connect; other subjects are looked up on the server (another process
 * may have created the stream), and only then get a stream of their own.
 */
export class StreamRegistry {
  private readonly known = new Map<string, string[]>()
  private readonly bySubject = new Map<string, Promise<string | undefined>>()

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly options: ResolvedNatsOptions,
  ) {}

  /**
   * Creates or updates the declared streams.
   * @throws {ConfigurationError} for a stream that does not exist and has no subjects to create it.
   */
  async declare(): Promise<void> {
    for (const def of this.options.streams) this.known.set(def.name, await this.declareOne(def))
  }

  private async declareOne(def: StreamDefinition): Promise<string[]> {
    const wanted = {
      ...streamConfig(def),
      ...(def.subjects ? { subjects: [...def.subjects] } : {}),
    }
    let info = await this.jsm.streams.info(def.name).catch((error: unknown) => {
      if (apiCode(error) === JetStreamApiCodes.StreamNotFound) return undefined
      throw error
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
    const changed = Object.entries(wanted).some(
      ([k, v]) => JSON.stringify(current[k]) !== JSON.stringify(v),
    )
    if (changed) {
      info = await this.jsm.streams.update(def.name, wanted as Partial<StreamUpdateConfig>)
    }
    return info.config.subjects ?? []
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
    found.then(
      (name) => {
        if (name === undefined) this.bySubject.delete(subject)
      },
      () => this.bySubject.delete(subject),
    )
    return found
  }

  /** Forgets a cached answer, after the stream stopped answering. */
  forget(subject: string): void {
    this.bySubject.delete(subject)
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
    const name = autoStreamName(prefix, subject)
    try {
      await this.jsm.streams.add({ name, subjects: [subject], ...streamConfig(limits) })
      return name
    } catch (error) {
      const code = apiCode(error)
      // Another process won the race, with a stream of its own or this very one.
      if (code === SUBJECTS_OVERLAP || code === NAME_IN_USE) {
        const winner = await this.onServer(subject)
        if (winner !== undefined) return winner
      }
      throw error
    }
  }

  private async onServer(subject: string): Promise<string | undefined> {
    const names: string[] = []
    for await (const name of this.jsm.streams.names(subject)) names.push(name)
    if (names.length === 0) return undefined
    if (names.length === 1) {
      const info = await this.jsm.streams.info(names[0]!)
      const subjects = info.config.subjects ?? []
      if (subjects.some((pattern) => covers(pattern, subject))) return names[0]
    }
    throw new ConfigurationError(
      `"${subject}" spans streams ${names.join(', ')}; declare one stream whose subjects cover it`,
      { field: 'streams' },
    )
  }
}
