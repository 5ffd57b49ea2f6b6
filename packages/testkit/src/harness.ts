import {
  createEventBus,
  type DeadLetterRecord,
  type EventBus,
  type EventBusOptions,
  readDeadLetter,
} from '@switchyard/core'
import { type Transport, type TransportFeatures, withTimeout } from '@switchyard/core/transport'
import type { ConsumerProcess } from './consumer-process.js'
import type { ConsumerSpec } from './consumer-protocol.js'
import { waitUntil } from './wait.js'

/** How a transport is put through the conformance suite. */
export interface ConformanceOptions {
  /** Capability flags; a scenario the transport cannot support is skipped visibly. */
  features: TransportFeatures
  /** A reason to skip the whole suite (from `serviceOrSkip`), or undefined to run it. */
  skip?: string | undefined
  /**
   * Stops and starts the broker that the transports made by `make` talk to, keeping its data.
   * Enables the broker-restart scenario; see `privateBroker` for a broker that must stay up.
   */
  restart?: () => Promise<void>
  /**
   * Starts a broker of the suite's own (spare port, own data) for the broker-restart scenario,
   * so the shared broker is never stopped. Started when that scenario runs, disposed after the
   * suite. Takes the place of `restart`.
   */
  privateBroker?: () => Promise<RestartableBroker>
  /** How late a delayed redelivery may arrive. @default 500 */
  delayToleranceMs?: number
  /** Creates a topic before a scenario uses it (Kafka: partitions). Dead-letter topics are prepared too. */
  prepareTopic?: (topic: string) => Promise<void>
  /** Longest wait for any one condition. @default 30_000 */
  timeoutMs?: number
  /**
   * Writes a message with the broker's own client, as a producer outside Switchyard would
   * (Kafka: a bare kafkajs producer; Redis: `XADD`; NATS: a bare JetStream publish). Resolves
   * with the time the broker stored it (ms since the epoch) when the client reports it, else
   * undefined. Enables the foreign-message and untimed-event scenarios.
   */
  injectRaw?: (topic: string, message: RawMessage) => Promise<number | undefined>
  /**
   * The transport tells when the broker stored each message (`InboundMessage.timestamp`), so
   * an event that arrives without `time` gets that time. When false, core gives such an event
   * its fallback, the epoch. The untimed-event scenario checks whichever is declared.
   * @default true
   */
  brokerTime?: boolean
  /**
   * Starts a member of a consumer group in a child process, for the killed-consumer scenario
   * (`startConsumerProcess` runs a script that speaks its protocol). `{ skip }` says why the
   * scenario cannot run on this transport, shown in its skipped title.
   */
  spawnConsumer?:
    | ((spec: ConsumerSpec) => ConsumerProcess | Promise<ConsumerProcess>)
    | { skip: string }
  /**
   * Makes the transport of the member that takes over from a killed one: the same broker, with
   * the same short hand-over setting the spawned consumer uses (Redis `consumerTimeout`, NATS
   * `ackWaitMs`). @default the suite's factory
   */
  survivor?: TransportFactory
  /**
   * How long the broker takes to hand a dead member's messages to another: Kafka's session
   * timeout, NATS's ack wait, Redis's consumer timeout. Added to the killed-consumer wait.
   * @default 10_000
   */
  handOverMs?: number
}

/** A message as a producer outside Switchyard writes it, for `ConformanceOptions.injectRaw`. */
export interface RawMessage {
  /** Native headers (Kafka record headers, Redis entry fields, NATS headers). @default none */
  headers?: Record<string, string>
  /** The payload; a string is written as its UTF-8 bytes. */
  body: Uint8Array | string
  /**
   * The partition key, the way the adapter documents it for other clients: the Kafka record
   * key, the Redis `key` field, the NATS `switchyard-key` header.
   */
  key?: string
}

/** A broker of the suite's own that the broker-restart scenario stops and starts. */
export interface RestartableBroker {
  /** Makes a transport on this broker. */
  make: TransportFactory
  /** Stops and starts it, keeping its data. */
  restart(): Promise<void>
  /** Creates a topic on it before use. */
  prepareTopic?: (topic: string) => Promise<void>
  /** Longest wait for one condition on it. @default the suite's `timeoutMs` */
  timeoutMs?: number
  /** Stops it and removes its data; called once after the suite. */
  dispose(): Promise<void>
}

/** The broker a restart scenario runs on: the suite's own, or a private one. */
interface RestartTarget {
  make: TransportFactory
  restart(): Promise<void>
  prepareTopic: ((topic: string) => Promise<void>) | undefined
  timeoutMs: number
}

/** Makes one transport: each call is one "process" attached to the same broker. */
export type TransportFactory = () => Transport | Promise<Transport>

/** Per-test helpers the scenarios share. */
export class Harness {
  private readonly buses: EventBus[] = []
  private readonly processes: ConsumerProcess[] = []
  private readonly run = Math.random().toString(36).slice(2, 8)
  private counter = 0
  private ownBroker: Promise<RestartableBroker> | undefined

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

  /** A fresh bus on a fresh transport (from `make`, the suite's factory by default); closed after the test. */
  async bus(options: Partial<EventBusOptions> = {}, make = this.make): Promise<EventBus> {
    const bus = createEventBus({ source: 'conformance', ...options, transport: await make() })
    this.buses.push(bus)
    await bus.connect()
    return bus
  }

  /** The entries arriving on `<topic>.dlq` from the earliest kept, read by a bus of their own. */
  async deadLetters(topic: string): Promise<DeadLetterRecord[]> {
    const entries: DeadLetterRecord[] = []
    const bus = await this.bus()
    await bus.subscribe(`${topic}.dlq`, (event) => void entries.push(readDeadLetter(event)), {
      group: 'dlq-reader',
      startAt: 'earliest',
    })
    return entries
  }

  /** A bus on a fresh transport that has not connected yet; closed after the test. */
  async unconnectedBus(options: Partial<EventBusOptions> = {}): Promise<EventBus> {
    const bus = createEventBus({ source: 'conformance', ...options, transport: await this.make() })
    this.buses.push(bus)
    return bus
  }

  /** A topic name no other test uses, prepared along with its dead-letter topic. */
  async topic(label: string, prepare = this.options.prepareTopic): Promise<string> {
    const topic = `sy.${label}.${this.run}${++this.counter}`
    if (prepare !== undefined) {
      await prepare(topic)
      await prepare(`${topic}.dlq`)
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

  /** Starts a consumer process through `spawnConsumer` and waits until it has subscribed; killed after the test. */
  async consumerProcess(spec: ConsumerSpec): Promise<ConsumerProcess> {
    const spawnConsumer = this.options.spawnConsumer
    if (typeof spawnConsumer !== 'function') throw new Error('no spawnConsumer hook')
    const child = await spawnConsumer(spec)
    this.processes.push(child)
    await withTimeout(child.ready, this.timeoutMs, 'the consumer process (subscribing)')
    return child
  }

  /** The broker the restart scenario stops and starts: the private one (started once), or the suite's. */
  async restartTarget(): Promise<RestartTarget> {
    const { privateBroker, restart } = this.options
    if (privateBroker !== undefined) {
      this.ownBroker ??= privateBroker()
      const broker = await this.ownBroker
      return {
        make: broker.make,
        restart: () => broker.restart(),
        prepareTopic: broker.prepareTopic,
        timeoutMs: broker.timeoutMs ?? this.timeoutMs,
      }
    }
    if (restart === undefined) throw new Error('no restart or privateBroker hook')
    return {
      make: this.make,
      restart,
      prepareTopic: this.options.prepareTopic,
      timeoutMs: this.timeoutMs,
    }
  }

  /** Kills every consumer process and closes every bus the test opened. */
  async cleanup(): Promise<void> {
    const processes = this.processes.splice(0)
    await Promise.allSettled(processes.map((child) => child.kill()))
    const buses = this.buses.splice(0)
    await Promise.allSettled(buses.map((bus) => bus.close({ timeoutMs: 5_000 })))
  }

  /** Disposes of the private broker, once the suite is done. */
  async dispose(): Promise<void> {
    const broker = this.ownBroker
    this.ownBroker = undefined
    // A broker that failed to start has nothing to dispose of; its test already failed.
    if (broker !== undefined)
      await broker.then(
        (b) => b.dispose(),
        () => undefined,
      )
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
