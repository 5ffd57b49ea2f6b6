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

/** How many operations are under way, and a wait for none to be. */
export class InFlight {
  private count = 0
  private waiters: Array<() => void> = []

  enter(): void {
    this.count++
  }

  leave(): void {
    if (--this.count === 0) for (const resolve of this.waiters.splice(0)) resolve()
  }

  /** Resolves once nothing is under way, waiting again for any that started meanwhile. */
  async idle(): Promise<void> {
    while (this.count > 0) await new Promise<void>((resolve) => this.waiters.push(resolve))
  }
}
