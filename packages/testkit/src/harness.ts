import { createEventBus, type EventBus, type EventBusOptions } from '@switchyard/core'
import type { Transport, TransportFeatures } from '@switchyard/core/transport'
import { waitUntil } from './wait.js'

/** How a transport is put through the conformance suite. */
export interface ConformanceOptions {
  /** Capability flags; a scenario the transport cannot support is skipped visibly. */
  features: TransportFeatures
  /** A reason to skip the whole suite (from `serviceOrSkip`), or undefined to run it. */
  skip?: string | undefined
  /** Stops and starts the broker the transports talk to, keeping its data. Enables the reconnect scenario. */
  restart?: () => Promise<void>
  /** How late a delayed redelivery may arrive. @default 500 */
  delayToleranceMs?: number
  /** Creates a topic before a scenario uses it (Kafka: partitions). Dead-letter topics are prepared too. */
  prepareTopic?: (topic: string) => Promise<void>
  /** Longest wait for any one condition. @default 30_000 */
  timeoutMs?: number
}

/** Makes one transport: each call is one "process" attached to the same broker. */
export type TransportFactory = () => Transport | Promise<Transport>

/** Per-test helpers the scenarios share. */
export class Harness {
  private readonly buses: EventBus[] = []
  private readonly run = Math.random().toString(36).slice(2, 8)
  private counter = 0

  constructor(
    readonly name: string,
    private readonly make: TransportFactory,
    readonly options: ConformanceOptions,
  ) {}

  get timeoutMs(): number {
    return this.options.timeoutMs ?? 30_000
  }

  get toleranceMs(): number {
    return this.options.delayToleranceMs ?? 500
  }

  /** A fresh bus on a fresh transport; closed after the test. */
  async bus(options: Partial<EventBusOptions> = {}): Promise<EventBus> {
    const bus = createEventBus({ source: 'conformance', ...options, transport: await this.make() })
    this.buses.push(bus)
    await bus.connect()
    return bus
  }

  /** A topic name no other test uses, prepared along with its dead-letter topic. */
  async topic(label: string): Promise<string> {
    const topic = `sy.${label}.${this.run}${++this.counter}`
    if (this.options.prepareTopic !== undefined) {
      await this.options.prepareTopic(topic)
      await this.options.prepareTopic(`${topic}.dlq`)
    }
    return topic
  }

  /** Waits for a condition within the suite's timeout. */
  until(condition: () => boolean, message: string, describe?: () => string): Promise<void> {
    return waitUntil(condition, {
      timeoutMs: this.timeoutMs,
      message,
      ...(describe ? { describe } : {}),
    })
  }

  /**
   * Lets extra deliveries show up before counting exactly: waits until nothing new arrived for
   * `quietMs`. This bounds a check for duplicates; it never stands in for waiting on the expected.
   */
  async settle(count: () => number, quietMs = 300): Promise<void> {
    let last = count()
    let since = Date.now()
    await waitUntil(
      () => {
        const now = count()
        if (now !== last) {
          last = now
          since = Date.now()
        }
        return Date.now() - since >= quietMs
      },
      { timeoutMs: this.timeoutMs, message: 'deliveries to settle' },
    )
  }

  /** Closes every bus the test opened. */
  async cleanup(): Promise<void> {
    const buses = this.buses.splice(0)
    await Promise.allSettled(buses.map((bus) => bus.close({ timeoutMs: 5_000 })))
  }
}

/** Counts occurrences per key. */
export function tally<K>(items: Iterable<K>): Map<K, number> {
  const counts = new Map<K, number>()
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1)
  return counts
}

/** Resolves after `ms`; used to pace publishers, never as an assertion. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
