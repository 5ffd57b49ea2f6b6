import type { StoredKeyState } from './store.js'

/** Keys whose states a processor keeps between batches, most recently used last. */
const CACHE_KEYS = 10_000

/**
 * The states this processor committed last, by key, so that a batch of keys seen before needs no
 * read from the store. Safe with any store: a commit carries the version a state was read at, so
 * a state another process changed meanwhile is refused, dropped from here and read again.
 */
export class KeyCache {
  private readonly states = new Map<string, StoredKeyState>()

  constructor(private readonly limit = CACHE_KEYS) {}

  get(key: string): StoredKeyState | undefined {
    return this.states.get(key)
  }

  has(key: string): boolean {
    return this.states.has(key)
  }

  /** Keeps what a commit wrote (`version` is the one the commit checked, so the next is +1). */
  committed(entries: readonly { key: string; version: number; state: StoredKeyState['state'] }[]) {
    const states = this.states
    for (const e of entries) {
      states.delete(e.key)
      states.set(e.key, { version: e.version + 1, state: e.state })
    }
    for (const key of states.keys()) {
      if (states.size <= this.limit) break
      states.delete(key)
    }
  }

  /** Forgets keys whose cached states a failed attempt may have changed in place. */
  drop(keys: readonly string[]): void {
    for (const key of keys) this.states.delete(key)
  }
}
