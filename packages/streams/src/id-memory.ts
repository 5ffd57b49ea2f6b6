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
    const h = hash(id)
    const at = this.current.stage(id)
    return this.current.find(h, at) || (this.previous?.findIn(h, this.current, at) ?? false)
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
    const h = hash(id)
    const current = this.current
    const at = current.stage(id)
    if (current.find(h, at)) return false
    if (this.previous?.findIn(h, current, at)) return false
    current.insert(h, at)
    return true
  }
}

/** FNV-1a over the UTF-16 code units, two at a time. */
function hash(id: string): number {
  let h = 0x811c9dc5
  const n = id.length
  let i = 0
  for (; i + 1 < n; i += 2) {
    h ^= (id.charCodeAt(i) << 16) | id.charCodeAt(i + 1)
    h = Math.imul(h, 0x01000193)
  }
  if (i < n) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193)
  return h | 0
}

/** Where `stage` wrote an id: its bytes from `start`, `length` long. */
interface Staged {
  start: number
  length: number
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
  private readonly staged: Staged = { start: 0, length: 0 }

  /** Writes `id` after the last entry, uncommitted (the next `stage` overwrites it). */
  stage(id: string): Staged {
    const room = id.length * 3
    if (this.tail + room > this.bytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.tail + room))
      this.bytes.copy(bigger, 0, 0, this.tail)
      this.bytes = bigger
    }
    this.staged.start = this.tail
    this.staged.length = this.bytes.write(id, this.tail, 'utf8')
    return this.staged
  }

  /** True when the staged id is an entry of this table. */
  find(h: number, at: Staged): boolean {
    return this.findIn(h, this, at)
  }

  /** True when the id staged in `table` is an entry of this one. */
  findIn(h: number, table: IdTable, at: Staged): boolean {
    const { slots, hashes, starts, lengths, bytes } = this
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
  insert(h: number, at: Staged): void {
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
