import type {
  InboundMessage,
  NackOptions,
  OutboundMessage,
  StartAt,
  TransportTopicInspection,
} from '@switchyard/core/transport'
import { ConfigurationError, Deque, startAtTime } from '@switchyard/core/transport'
import { browsed, type Holder, MemoryMessage, type Stored, toStored } from './mapping.js'

/** A stored event offered again: it carries its next attempt number. First deliveries are queued as the `Stored` itself, saving an object per event. */
class Redelivery {
  constructor(
    readonly stored: Stored,
    readonly attempt: number,
  ) {}
}

type Queued = Stored | Redelivery

/** An open pull of a member: answered once, by `wake` or `leave`. */
interface Waiter {
  readonly member: Member
  readonly max: number
  readonly deliver: (messages: InboundMessage[]) => void
}

/** Hooks the transport uses to apply fault injection to deliveries. */
export interface DeliveryControl {
  /** Extra delay before an ack completes. */
  ackDelayMs(): number
  /** Throws when acks must fail (disconnected). */
  checkConnected(): void
}

/** A consumer group of a topic: one queue, shared by its members. */
interface Group {
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

/** One subscriber attached to a group: it holds its deliveries until they are settled. */
export class Member implements Holder {
  /**
   * Unsettled deliveries, oldest first, as a list threaded through the messages themselves: a
   * Set cost a hash entry per delivery and rehashing as it grew and shrank, on every event.
   */
  private first: MemoryMessage | undefined
  private last: MemoryMessage | undefined
  closed = false

  constructor(
    private readonly broker: MemoryBroker,
    readonly group: Group,
    private readonly control: DeliveryControl,
  ) {}

  get topicName(): string {
    return this.group.topic.name
  }

  ack(message: MemoryMessage): void | Promise<void> {
    this.control.checkConnected()
    const delay = this.control.ackDelayMs()
    if (delay <= 0) {
      this.finishAck(message)
      return
    }
    // Fault injection (`slowAcks`): the ack completes late, as over a slow connection.
    return new Promise<void>((resolve) => setTimeout(resolve, delay)).then(() =>
      this.finishAck(message),
    )
  }

  nack(message: MemoryMessage, options: NackOptions): void {
    this.control.checkConnected()
    if (!this.settle(message)) return
    // Core waits out retry delays itself (no native delay): back to the front at once.
    this.group.queue.unshift(new Redelivery(message.stored, options.attempt + 1))
    this.broker.wake(this.group)
    this.broker.freed(this.group.topic)
  }

  /** Takes up to `max` queued deliveries onto this member's books. */
  take(max: number): InboundMessage[] {
    const queued = this.group.queue.take(max)
    this.group.inFlight += queued.length
    const messages: MemoryMessage[] = new Array(queued.length)
    for (let i = 0; i < queued.length; i++) {
      const item = queued[i]!
      const message =
        item instanceof Redelivery
          ? new MemoryMessage(this, item.stored, item.attempt)
          : new MemoryMessage(this, item, 1)
      message.previous = this.last
      if (this.last === undefined) this.first = message
      else this.last.next = message
      this.last = message
      messages[i] = message
    }
    return messages
  }

  /** Oldest time any unsettled delivery was stored, `Infinity` without any. */
  oldestUnsettled(): number {
    let oldest = Number.POSITIVE_INFINITY
    for (let m = this.first; m !== undefined; m = m.next) {
      oldest = Math.min(oldest, m.stored.timestamp)
    }
    return oldest
  }

  /** Returns every unsettled delivery to the front of the queue, in order. */
  giveBackAll(): void {
    for (let m = this.last; m !== undefined; m = m.previous) {
      // Off the books: a late ack or nack of it is a no-op, as for any settled delivery.
      m.settled = true
      this.group.inFlight--
      this.group.queue.unshift(new Redelivery(m.stored, m.attempt + 1))
    }
    this.first = undefined
    this.last = undefined
  }

  private finishAck(message: MemoryMessage): void {
    if (this.settle(message)) this.broker.freed(this.group.topic)
  }

  /** Takes the delivery off the books, once; false if it was already settled or given back. */
  private settle(message: MemoryMessage): boolean {
    if (message.settled) return false
    message.settled = true
    const { previous, next } = message
    if (previous === undefined) this.first = next
    else previous.next = next
    if (next === undefined) this.last = previous
    else next.previous = previous
    message.previous = undefined
    message.next = undefined
    this.group.inFlight--
    return true
  }
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

  /** @internal Figures of the named topics (all without names) for `Transport.inspect`. */
  inspect(names: readonly string[] | undefined): TransportTopicInspection[] {
    const now = Date.now()
    return (names ?? [...this.topics.keys()]).map((name) => {
      const topic = this.topics.get(name)
      if (topic === undefined) return { topic: name, retained: 0, bytes: 0, groups: [] }
      let bytes = 0
      for (const stored of topic.history.toArray()) bytes += stored.body.byteLength
      const groups = [...topic.groups.values()].map((group) => {
        let oldest = Number.POSITIVE_INFINITY
        for (const member of group.members) oldest = Math.min(oldest, member.oldestUnsettled())
        return {
          group: group.name,
          lag: group.queue.length,
          pending: group.inFlight,
          oldestUnsettledAgeMs: Number.isFinite(oldest) ? Math.max(0, now - oldest) : null,
        }
      })
      return { topic: name, retained: topic.history.length, bytes, groups }
    })
  }

  /** @internal Moves an existing group without members to `position` (`Transport.seek`). */
  seek(topicName: string, groupName: string, position: StartAt): void {
    const group = this.topics.get(topicName)?.groups.get(groupName)
    if (group === undefined) {
      throw new ConfigurationError(
        `Group "${groupName}" has never read "${topicName}": nothing to seek`,
        {
          field: 'group',
        },
      )
    }
    if (group.members.size > 0) {
      throw new ConfigurationError(
        `Group "${groupName}" has ${group.members.size} member(s) reading "${topicName}": close them before seeking`,
        { field: 'group' },
      )
    }
    group.queue.take(group.queue.length)
    const time = startAtTime(position)
    for (const stored of group.topic.history.toArray()) {
      if (startsBefore(stored, position, time)) group.queue.push(stored)
    }
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
    // One list of the groups per call, not a Map iterator per message.
    const groups = topic.groups.size === 0 ? [] : [...topic.groups.values()]
    for (let i = 0; i < messages.length; i++) {
      const stored = toStored(messages[i]!, ++topic.seq, now)
      topic.published++
      if (historySize > 0) {
        topic.history.push(stored)
        if (topic.history.length > historySize) topic.history.shift()
      }
      for (let g = 0; g < groups.length; g++) groups[g]!.queue.push(stored)
    }
    for (let g = 0; g < groups.length; g++) this.wake(groups[g]!)
  }

  /** @internal Finds or creates a group, positioned per `startAt` when new, and adds a member. */
  join(
    topic: Topic,
    groupName: string,
    startAt: StartAt,
    startTime: number | undefined,
    control: DeliveryControl,
  ): Member {
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
    const member = new Member(this, group, control)
    group.members.add(member)
    return member
  }

  /**
   * @internal Answers with up to `max` deliveries for a member: at once when some are queued,
   * else when some arrive; with none once the member leaves or `signal` aborts.
   */
  pull(
    member: Member,
    max: number,
    signal: AbortSignal,
    deliver: (messages: InboundMessage[]) => void,
  ): void {
    const group = member.group
    if (member.closed || signal.aborted) {
      deliver([])
      return
    }
    if (group.queue.length > 0) {
      deliver(member.take(max))
      return
    }
    const onAbort = () => {
      const index = group.waiters.indexOf(waiter)
      if (index !== -1) group.waiters.splice(index, 1)
      deliver([])
    }
    const waiter: Waiter = {
      member,
      max,
      deliver: (messages) => {
        signal.removeEventListener('abort', onAbort)
        deliver(messages)
      },
    }
    signal.addEventListener('abort', onAbort, { once: true })
    group.waiters.push(waiter)
  }

  /** @internal Detaches a member: answers its open pull empty, returns its unsettled deliveries. */
  leave(member: Member): void {
    member.closed = true
    const group = member.group
    for (let i = group.waiters.length - 1; i >= 0; i--) {
      const waiter = group.waiters[i]!
      if (waiter.member === member) {
        group.waiters.splice(i, 1)
        waiter.deliver([])
      }
    }
    member.giveBackAll()
    group.members.delete(member)
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
      waiter.deliver(waiter.member.take(Math.min(waiter.max, share)))
    }
  }

  /** @internal Retained events as read-only messages, for dead-letter listing. */
  browse(topic: Topic, limit: number): InboundMessage[] {
    return topic.history
      .toArray()
      .slice(0, limit)
      .map((stored) => browsed(topic.name, stored))
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
