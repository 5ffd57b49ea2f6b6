import type { OutboundMessage } from '@switchyard/core/transport'
import type { MemoryBroker, Topic } from './broker.js'
import { queueFullError } from './errors.js'
import type { ResolvedMemoryOptions } from './options.js'

/**
 * Appends to a topic, with DotMac's bounded queue: while a group of the topic is
 * `maxQueueSize` events behind, a publish waits for it to catch up, up to `publishTimeoutMs`.
 */
export class MemoryPublisher {
  constructor(
    private readonly broker: MemoryBroker,
    private readonly options: ResolvedMemoryOptions,
  ) {}

  /** Stores the messages once there is room. @throws {PublishError} when none came in time. */
  async publish(topicName: string, messages: readonly OutboundMessage[]): Promise<void> {
    const topic = this.broker.topic(topicName)
    const { maxQueueSize, publishTimeoutMs, historySize } = this.options
    // A batch larger than the queue needs an empty queue, not room for all of it.
    const room = () =>
      this.broker.fullest(topic) + Math.min(messages.length, maxQueueSize) <= maxQueueSize
    if (!room()) {
      const deadline = Date.now() + publishTimeoutMs
      while (!room()) {
        const left = deadline - Date.now()
        if (left <= 0) throw queueFullError(topicName, maxQueueSize, publishTimeoutMs)
        await this.space(topic, left)
      }
    }
    this.broker.append(topic, messages, historySize)
  }

  /** Resolves when a group of the topic settles a message, or after `ms`. */
  private space(topic: Topic, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      // The deadline of this publish: the broker wakes it earlier when a group frees room.
      const timer = setTimeout(resolve, ms)
      topic.spaceWaiters.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }
}
