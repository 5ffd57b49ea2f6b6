/**
 * The event ids a memory store took, each remembered for at least its lifetime: two generations,
 * the older dropped whole once the newer is a lifetime old (some ids are remembered up to twice
 * as long). The ids' bytes live in a buffer with an open-addressing index in typed arrays, exact
 * (a hash match is confirmed byte by byte) and outside the JavaScript heap: a Set of strings
 * kept for minutes costs every garbage collection a walk over all of them, which on the memory
 * path cost more than everything else a processor does per event.
 */
export class IdMemory {
  private current = new IdTable()
  private previous: IdTable | undefined
  private since = Number.NEGATIVE_INFINITY

  /** True when `id` was added and is still remembered. */
  has(id: string): boolean {
    const at = this.current.stage(id)
    return this.current.find(at) || (this.previous?.findIn(this.current, at) ?? false)
  }

  /** Remembers `id` for at least `ttlMs` from `now`. */
  add(id: string, now: number, ttlMs: number): void {
    this.take(id, now, ttlMs)
  }

  /** Remembers `id` like `add`; false when it was remembered already. */
  take(id: string, now: number, ttlMs: number): boolean {
    if (now - this.since >= ttlMs) {
      // Everything in `previous` was added more than a lifetime ago.
      this.previous = this.current.count > 0 ? this.current : undefined
      this.current = new IdTable()
      this.since = now
    }
    const current = this.current
    const at = current.stage(id)
    if (current.find(at)) return false
    if (this.previous?.findIn(current, at)) return false
    current.insert(at)
    return true
  }
}

/** Where `stage` wrote an id: its bytes from `start`, `length` long, and its hash. */
interface Staged {
  start: number
  length: number
  hash: number
}

/** One generation: ids' UTF-8 bytes one after another, and an index of (hash, start, length). */
class IdTable {
  count = 0
  private bytes = Buffer.allocUnsafe(64 * 1024)
  private tail = 0
  private hashes = new Int32Array(1024)
  private starts = new Int32Array(1024)
  private lengths = new Int32Array(1024)
  /** Entry number + 1 per slot, 0 for free; twice the entries, so probes stay short. */
  private slots = new Int32Array(2048)
  private readonly staged: Staged = { start: 0, length: 0, hash: 0 }

  /**
   * Writes `id` after the last entry, uncommitted (the next `stage` overwrites it), hashing it
   * (FNV-1a over the UTF-16 code units) in the same pass. ASCII, what ids nearly always are, is
   * copied here; other text through Buffer's UTF-8 encoder.
   */
  stage(id: string): Staged {
    const n = id.length
    if (this.tail + n * 3 > this.bytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.tail + n * 3))
      this.bytes.copy(bigger, 0, 0, this.tail)
      this.bytes = bigger
    }
    const bytes = this.bytes
    const start = this.tail
    let h = 0x811c9dc5
    let ascii = true
    for (let i = 0; i < n; i++) {
      const c = id.charCodeAt(i)
      h = Math.imul(h ^ c, 0x01000193)
      if (c > 0x7f) ascii = false
      else bytes[start + i] = c
    }
    const staged = this.staged
    staged.start = start
    staged.length = ascii ? n : bytes.write(id, start, 'utf8')
    staged.hash = h | 0
    return staged
  }

  /** True when the staged id is an entry of this table. */
  find(at: Staged): boolean {
    return this.findIn(this, at)
  }

  /** True when the id staged in `table` is an entry of this one. */
  findIn(table: IdTable, at: Staged): boolean {
    const { slots, hashes, starts, lengths, bytes } = this
    const h = at.hash
    const mask = slots.length - 1
    for (let i = h & mask; slots[i] !== 0; i = (i + 1) & mask) {
      const e = (slots[i] as number) - 1
      if (hashes[e] !== h || lengths[e] !== at.length) continue
      const start = starts[e] as number
      const end = at.start + at.length
      if (bytes.compare(table.bytes, at.start, end, start, start + at.length) === 0) return true
    }
    return false
  }

  /** Commits the staged id as an entry. */
  insert(at: Staged): void {
    const h = at.hash
    if (this.count === this.hashes.length) this.grow()
    const e = this.count++
    this.hashes[e] = h
    this.starts[e] = at.start
    this.lengths[e] = at.length
    this.tail = at.start + at.length
    this.place(h, e)
  }

  private place(h: number, e: number): void {
    const slots = this.slots
    const mask = slots.length - 1
    let i = h & mask
    while (slots[i] !== 0) i = (i + 1) & mask
    slots[i] = e + 1
  }

  private grow(): void {
    const size = this.hashes.length * 2
    const copy = (from: Int32Array) => {
      const to = new Int32Array(size)
      to.set(from)
      return to
    }
    this.hashes = copy(this.hashes)
    this.starts = copy(this.starts)
    this.lengths = copy(this.lengths)
    this.slots = new Int32Array(size * 2)
    for (let e = 0; e < this.count; e++) this.place(this.hashes[e] as number, e)
  }
}
