import type { EventEnvelope } from '@switchyard/core'
import { IdMemory } from './id-memory.js'
import type { StreamOutput } from './operator.js'

/** Everything a processor keeps for one key: watermark, late count, operator state. */
export interface KeyState {
  /** The key's watermark: the latest event time seen, ms (-Infinity before the first). */
  wm: number
  /** Late events sent to the late-events topic. */
  late: number
  /** The operator's state (JSON-serialisable for the Redis and PostgreSQL stores). */
  s: unknown
}

/** What `load` found. */
export interface LoadedState {
  /** The stored states of the keys asked for; a key never written is absent. */
  states: Map<string, StoredKeyState>
  /** Those of the ids asked for that a commit already took (within `dedupMs`). */
  seen: Set<string>
}

/** A key's state as a store holds it, with the version its next write must match. */
export interface StoredKeyState {
  /** Incremented by every commit; 0 for a key never written. */
  version: number
  /** The state. */
  state: KeyState
}

/** What a commit carries: it is applied whole or not at all. */
export interface OutboxItem {
  /** The result's (or late event's) id. */
  id: string
  /** A result to deliver. */
  output?: StreamOutput
  /** A late event and the topic it goes to. */
  late?: { topic: string; event: EventEnvelope }
}

/** One batch's writes. */
export interface StateChange {
  /** New states, each with the version it was loaded at. */
  entries: { key: string; version: number; state: KeyState }[]
  /** Results and late events to deliver after the commit. */
  outbox: OutboxItem[]
  /** Outbox ids delivered since the last commit: to delete. */
  sent: string[]
  /** Ids of the events this batch took (applied or late): a redelivery of one is skipped. */
  seen: string[]
  /** How long (wall-clock ms) the store remembers a taken id. */
  dedupMs: number
}

/**
 * Where a processor keeps its state. `commit` must be atomic and must refuse (return false)
 * when any entry's stored version differs from the one given: another process changed the key,
 * and the processor loads it again and retries the batch.
 */
export interface StateStore {
  /** Shown in logs. */
  readonly name: string
  /**
   * True when `commit` also refuses (returns false, writes nothing) if one of `change.seen` was
   * taken already within its `dedupMs`. The processor then skips the id lookup of `load` before
   * a batch's first attempt, and looks the ids up only after a refusal. @default false
   */
  readonly checksSeen?: boolean
  /** The stored states of these keys, and which of these event ids were taken already. */
  load(stream: string, keys: readonly string[], ids: readonly string[]): Promise<LoadedState>
  /** Writes a batch atomically; false on a version conflict (nothing written). */
  commit(stream: string, change: StateChange): Promise<boolean>
  /** Outbox items committed and not yet marked sent (after a crash: to deliver again). */
  outbox(stream: string): Promise<OutboxItem[]>
  /** Releases what the store opened itself; a client you gave it stays open. */
  close(): Promise<void>
}

/** The JSON form of a key's state (the Redis and PostgreSQL stores). */
export function encodeKeyState(state: KeyState): string {
  return JSON.stringify({
    wm: Number.isFinite(state.wm) ? state.wm : null,
    late: state.late,
    s: state.s,
  })
}

/** Reads `encodeKeyState`'s output. */
export function decodeKeyState(text: string): KeyState {
  const raw = JSON.parse(text) as {
    wm: number | null
    late: number
    s: unknown
  }
  return { wm: raw.wm ?? Number.NEGATIVE_INFINITY, late: raw.late, s: raw.s }
}

/**
 * State in this process's memory: for tests, demos and streams whose state may be lost on a
 * crash. Several processors (one after another, as in a restart test) may share one store.
 * @example await stream(bus, 'clicks', { group: 'counts', store: memoryStore() }).window(tumbling(60_000)).count().forEach(console.log)
 */
export function memoryStore(): StateStore {
  const streams = new Map<string, MemoryStream>()
  const of = (stream: string) => {
    let s = streams.get(stream)
    if (s === undefined) {
      s = { keys: new Map(), out: new Map(), seen: new IdMemory() }
      streams.set(stream, s)
    }
    return s
  }
  const store: StateStore = {
    name: 'memory',
    checksSeen: true,
    async load(stream, keys, ids) {
      const s = of(stream)
      const states = new Map<string, StoredKeyState>()
      for (const key of keys) {
        const entry = s.keys.get(key)
        if (entry !== undefined) states.set(key, entry)
      }
      const seen = new Set<string>()
      for (const id of ids) if (s.seen.has(id)) seen.add(id)
      return { states, seen }
    },
    async commit(stream, change) {
      const s = of(stream)
      for (const e of change.entries)
        if ((s.keys.get(e.key)?.version ?? 0) !== e.version) return false
      for (const id of change.seen) if (s.seen.has(id)) return false
      for (const e of change.entries) s.keys.set(e.key, { version: e.version + 1, state: e.state })
      for (const item of change.outbox) s.out.set(item.id, item)
      for (const id of change.sent) s.out.delete(id)
      const now = Date.now()
      for (const id of change.seen) s.seen.add(id, now, change.dedupMs)
      return true
    },
    async outbox(stream) {
      return [...of(stream).out.values()]
    },
    async close() {},
  }
  inProcess.set(store, of)
  return store
}

/**
 * The maps of an in-process store, by store: the processor applies each event to them inside
 * the handler call instead of batching (nothing to wait for, so nothing to gather).
 */
export const inProcess = new WeakMap<StateStore, (stream: string) => MemoryStream>()

/** One stream's state in a memory store. */
export interface MemoryStream {
  keys: Map<string, StoredKeyState>
  out: Map<string, OutboxItem>
  /** Taken ids. */
  seen: IdMemory
}
