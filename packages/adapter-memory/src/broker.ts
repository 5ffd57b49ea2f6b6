import type {
  EventEnvelope,
  InboundMessage,
  NackOptions,
  OutboundMessage,
  StartAt,
} from '@switchyard/core/transport'
import { Deque } from '@switchyard/core/transport'

/** One stored event of a topic. */
interface Stored {
  readonly seq: number
  readonly timestamp: number
  readonly key: string | undefined
  readonly headers: Record<string, string>
  readonly body: Uint8Array
  readonly event: EventEnvelope | undefined
}

/** A stored event offered again: it carries its next attempt number. First deliveries are queued as the `Stored` itself, saving an object per event. */
class Redelivery {
  constructor(
    readonly stored: Stored,
    readonly attempt: number,
  ) {}
}

type Queued = Stored | Redelivery

interface Waiter {
  readonly member: Member
  readonly max: number
  readonly control: DeliveryControl
  readonly resolve: (messages: InboundMessage[]) => void
}

/** One subscriber attached to a group. */
export interface Member {
  readonly group: Group
  readonly inFlight: Set<MemoryMessage>
  closed: boolean
}

/** A consumer group of a topic: one queue, shared by its members. */
export interface Group {
  readonly name: string
  readonly topic: Topic
  readonly queue: Deque<Queued>
  readonly waiters: Waiter[]
  readonly members: Set<Member>
  inFlight: number
}

/** A topic: its retained history and its groups. */
export interface Topic {
  readonly name: string
  readonly history: Deque<Stored>
  readonly groups: Map<string, Group>
  readonly spaceWaiters: Array<() => void>
  seq: number
  published: number
}

/** Hooks the transport uses to apply fault injection to deliveries. */
export interface DeliveryControl {
  /** Extra delay before an ack completes. */
  ackDelayMs(): number
  /** Throws when acks must fail (disconnected). */
  checkConnected(): void
}

/**
 * An in-process broker: topics with bounded history and consumer groups with at-least-once
 * delivery. Share one between several transports to connect several buses in one process.
 */
export class MemoryBroker {
  private readonly topics = new Map<string, Topic>()

  /** @internal */
  topic(name: string): Topic {
    let topic = this.topics.get(name)
    if (topic === undefined) {
      topic = {
        name,
        history: new Deque(),
        groups: new Map(),
        spaceWaiters: [],
        seq: 0,
        published: 0,
      }
      this.topics.set(name, topic)
    }
    return topic
  }

  /** Backlog (waiting + in flight) per group of a topic, for tests and metrics. */
  backlog(topicName: string): Record<string, { waiting: number; inFlight: number }> {
    const out: Record<string, { waiting: number; inFlight: number }> = {}
    const topic = this.topics.get(topicName)
    if (topic === undefined) return out
    for (const group of topic.groups.values()) {
      out[group.name] = { waiting: group.queue.length, inFlight: group.inFlight }
    }
    return out
  }

  /** @internal Largest backlog of any group of the topic. */
  fullest(topic: Topic): number {
    let max = 0
    for (const group of topic.groups.values())
      max = Math.max(max, group.queue.length + group.inFlight)
    return max
  }

  /** @internal Appends messages to the topic and to every group's queue. */
  append(topic: Topic, messages: readonly OutboundMessage[], historySize: number): void {
    const now = Date.now()
    for (const message of messages) {
      const stored: Stored = {
        seq: ++topic.seq,
        timestamp: now,
        key: message.key,
        headers: message.headers,
        body: message.body,
        event: message.event,
      }
      topic.published++
      if (historySize > 0) {
        topic.history.push(stored)
        if (topic.history.length > historySize) topic.history.shift()
      }
      for (const group of topic.groups.values()) group.queue.push(stored)
    }
    for (const group of topic.groups.values()) this.wake(group)
  }

  /** @internal Finds or creates a group, positioned per `startAt` when new. */
  join(topic: Topic, groupName: string, startAt: StartAt, startTime: number | undefined): Member {
    let group = topic.groups.get(groupName)
    if (group === undefined) {
      group = {
        name: groupName,
        topic,
        queue: new Deque(),
        waiters: [],
        members: new Set(),
        inFlight: 0,
      }
      topic.groups.set(groupName, group)
      for (const stored of topic.history.toArray()) {
        if (startsBefore(stored, startAt, startTime)) group.queue.push(stored)
      }
    }
    const member: Member = { group, inFlight: new Set(), closed: false }
    group.members.add(member)
    return member
  }

  /** @internal Takes up to `max` deliveries for a member, or waits for some. */
  pull(
    member: Member,
    max: number,
    signal: AbortSignal,
    control: DeliveryControl,
  ): Promise<InboundMessage[]> {
    const group = member.group
    if (member.closed || signal.aborted) return Promise.resolve([])
    if (group.queue.length > 0) return Promise.resolve(this.take(member, max, control))
    return new Promise((resolve) => {
      const waiter: Waiter = {
        member,
        max,
        control,
        resolve: (messages) => {
          signal.removeEventListener('abort', onAbort)
          resolve(messages)
        },
      }
      const onAbort = () => {
        const index = group.waiters.indexOf(waiter)
        if (index !== -1) group.waiters.splice(index, 1)
        resolve([])
      }
      signal.addEventListener('abort', onAbort, { once: true })
      group.waiters.push(waiter)
    })
  }

  /** @internal Detaches a member: wakes its waiters empty, returns its unsettled deliveries. */
  leave(member: Member): void {
    member.closed = true
    const group = member.group
    for (let i = group.waiters.length - 1; i >= 0; i--) {
      const waiter = group.waiters[i]!
      if (waiter.member === member) {
        group.waiters.splice(i, 1)
        waiter.resolve([])
      }
    }
    const unsettled = [...member.inFlight].reverse()
    member.inFlight.clear()
    for (const message of unsettled) {
      group.inFlight--
      group.queue.unshift(new Redelivery(message.stored, message.attempt + 1))
    }
    group.members.delete(member)
    this.wake(group)
  }

  /**
   * @internal Gives a delivery back to the front of the queue. Core waits out retry delays
   * itself (the transport declares no native delay), so `delayMs` is not used here.
   */
  redeliver(group: Group, stored: Stored, options: NackOptions): void {
    group.queue.unshift(new Redelivery(stored, options.attempt + 1))
    this.wake(group)
  }

  /** @internal Wakes waiting publishers when a topic has room again. */
  freed(topic: Topic): void {
    if (topic.spaceWaiters.length === 0) return
    for (const resolve of topic.spaceWaiters.splice(0)) resolve()
  }

  /** @internal Hands queued deliveries to waiting members, sharing them out fairly. */
  wake(group: Group): void {
    if (group.waiters.length === 0 || group.queue.length === 0) return
    const share = Math.max(1, Math.ceil(group.queue.length / group.waiters.length))
    while (group.waiters.length > 0 && group.queue.length > 0) {
      const waiter = group.waiters.shift()!
      waiter.resolve(this.take(waiter.member, Math.min(waiter.max, share), waiter.control))
    }
  }

  private take(member: Member, max: number, control: DeliveryControl): InboundMessage[] {
    const group = member.group
    const queued = group.queue.take(max)
    group.inFlight += queued.length
    const messages: MemoryMessage[] = new Array(queued.length)
    for (let i = 0; i < queued.length; i++) {
      const item = queued[i]!
      const message =
        item instanceof Redelivery
          ? new MemoryMessage(this, member, item.stored, item.attempt, control)
          : new MemoryMessage(this, member, item, 1, control)
      member.inFlight.add(message)
      messages[i] = message
    }
    return messages
  }

  /** @internal Deliveries as read-only messages, for dead-letter listing. */
  browse(topic: Topic, limit: number): InboundMessage[] {
    return topic.history
      .toArray()
      .slice(0, limit)
      .map((stored) => ({
        topic: topic.name,
        headers: stored.headers,
        body: stored.body,
        key: stored.key,
        attempt: 1,
        position: String(stored.seq),
        event: stored.event,
        ack: () => undefined,
        nack: () => undefined,
      }))
  }
}

function startsBefore(stored: Stored, startAt: StartAt, startTime: number | undefined): boolean {
  if (startAt === 'earliest') return true
  if (startAt === 'latest') return false
  if (startTime !== undefined) return stored.timestamp >= startTime
  if (typeof startAt === 'object' && 'sequence' in startAt)
    return stored.seq >= Number(startAt.sequence)
  return false
}

/** One delivery handed to a member; a class, so the hot path allocates no closures. */
class MemoryMessage implements InboundMessage {
  readonly topic: string
  readonly headers: Record<string, string>
  readonly body: Uint8Array
  readonly key: string | undefined
  readonly event: EventEnvelope | undefined
  private settled = false

  constructor(
    private readonly broker: MemoryBroker,
    private readonly member: Member,
    readonly stored: Stored,
    readonly attempt: number,
    private readonly control: DeliveryControl,
  ) {
    this.topic = member.group.topic.name
    this.headers = stored.headers
    this.body = stored.body
    this.key = stored.key
    this.event = stored.event
  }

  get position(): string {
    return String(this.stored.seq)
  }

  ack(): void | Promise<void> {
    this.control.checkConnected()
    const delay = this.control.ackDelayMs()
    if (delay <= 0) {
      this.finishAck()
      return
    }
    return new Promise<void>((resolve) => setTimeout(resolve, delay)).then(() => this.finishAck())
  }

  nack(options: NackOptions): void {
    this.control.checkConnected()
    if (this.settle()) {
      this.broker.redeliver(this.member.group, this.stored, options)
      this.broker.freed(this.member.group.topic)
    }
  }

  private finishAck(): void {
    if (this.settle()) this.broker.freed(this.member.group.topic)
  }

  /** Takes the delivery off the member's books, once; false if it was already settled or given back. */
  private settle(): boolean {
    if (this.settled || !this.member.inFlight.delete(this)) return false
    this.settled = true
    this.member.group.inFlight--
    return true
  }
}
