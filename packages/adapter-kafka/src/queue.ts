/** FIFO with O(1) take from the front (the buffer is pulled from in small bites). */
export class Queue<T> {
  private items: T[] = []
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

  take(max: number): T[] {
    const out = this.items.slice(this.head, this.head + max)
    this.head += out.length
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head > 1_024) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return out
  }
}

/** Resolves when `promise` settles or after `ms`, whichever comes first; never rejects on timeout. */
export function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise,
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]).finally(() => clearTimeout(timer))
}
