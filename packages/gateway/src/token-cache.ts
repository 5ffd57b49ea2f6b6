/** Options of the verified-token cache. */
export interface TokenCacheOptions {
  /** Tokens remembered at most; the least recently used go first. @default 10_000 */
  maxEntries?: number
  /**
   * Longest time a verified token is trusted without checking its signature again (never past
   * its `exp`). Bounds how long a key removed from a JWKS keeps accepting its tokens. @default 60_000
   */
  maxAgeMs?: number
}

/**
 * Remembers what verifying a token gave, so a client that sends the same bearer token on every
 * request pays for the signature check once per `maxAgeMs`, not per request. Only successful
 * verifications are kept; an entry ends at the token's `exp` or after `maxAgeMs`.
 */
export class TokenCache<T> {
  private readonly entries = new Map<string, { value: T; until: number; touched: number }>()
  private readonly maxEntries: number
  private readonly maxAgeMs: number

  constructor(options: TokenCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000
    this.maxAgeMs = options.maxAgeMs ?? 60_000
  }

  /** The remembered value of `token`, while it is still good. */
  get(token: string, now = Date.now()): T | undefined {
    const entry = this.entries.get(token)
    if (entry === undefined) return undefined
    if (entry.until <= now) {
      this.entries.delete(token)
      return undefined
    }
    // Moving an entry to the young end costs two map operations; once a second is enough to
    // keep a token in use away from the old end.
    if (now - entry.touched >= 1_000) {
      entry.touched = now
      this.entries.delete(token)
      this.entries.set(token, entry)
    }
    return entry.value
  }

  /** Remembers a verified token until `expSeconds` (its `exp` claim) or `maxAgeMs`, whichever is first. */
  set(token: string, value: T, expSeconds: number | undefined, now = Date.now()): void {
    const until = Math.min(
      now + this.maxAgeMs,
      expSeconds === undefined ? Infinity : expSeconds * 1_000,
    )
    if (until <= now) return
    this.entries.set(token, { value, until, touched: now })
    if (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string)
    }
  }
}
