import { checkTopic } from './options.js'
import { checkTopicSettings, type TopicCreation, type TopicSettings } from './topic-settings.js'
import type { Transport } from './transport.js'

/**
 * Creates a topic on the transport's broker with its settings (`bus.createTopic`). A transport
 * without broker-side topics (memory, Redis: a stream exists once written) creates nothing and
 * reports every setting as ignored.
 */
export async function createTopicOn(
  transport: Transport,
  topic: string,
  settings: TopicSettings,
): Promise<TopicCreation> {
  checkTopic(topic)
  const set = checkTopicSettings(settings)
  const given = Object.keys(set) as (keyof TopicSettings)[]
  if (transport.createTopic === undefined) {
    return { topic, created: false, applied: [], ignored: given }
  }
  const { created, applied } = await transport.createTopic(topic, set)
  return { topic, created, applied, ignored: given.filter((key) => !applied.includes(key)) }
}
