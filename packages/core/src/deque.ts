/** A FIFO with O(1) push, shift and unshift, for queues that grow to hundreds of thousands. */
export class Deque<T> {
  private items: (T | undefined)[] = []
  private head = 0

  get length(): number {
    return this.items.length - this.head
  }

  push(item: T): void {
    this.items.push(item)
  }

  unshift(item: T): void {
    if (this.head > 0) this.items[--this.head] = item
    else this.items.unshift(item)
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined
    const item = this.items[this.head]
    this.items[this.head++] = undefined
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }

  /** Removes and returns up to `n` items from the front. */
  take(n: number): T[] {
    const count = Math.min(n, this.length)
    const out = this.items.slice(this.head, this.head + count) as T[]
    this.head += count
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return out
  }

  /** Items from the front, without removing them. */
  toArray(): T[] {
    return this.items.slice(this.head) as T[]
  }
}
