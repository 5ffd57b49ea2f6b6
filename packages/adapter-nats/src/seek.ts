import { JetStreamApiCodes, type JetStreamManager } from '@nats-io/jetstream'
import { ConfigurationError, type StartAt } from '@switchyard/core/transport'
import { apiCode } from './errors.js'
import { consumerName, deliverPolicy, subjectsFor } from './mapping.js'
import type { StreamRegistry } from './stream-registry.js'

/**
 * Re-creates an existing group's durable consumer with the same settings, delivering from
 * `position`: JetStream cannot move a consumer's start, so its acknowledgement state starts over
 * there. Refused while members are pulling from it (they would lose their consumer).
 */
export async function seekConsumer(
  jsm: JetStreamManager,
  registry: StreamRegistry,
  aliases: Readonly<Record<string, string | readonly string[]>>,
  topic: string,
  group: string,
  position: StartAt,
): Promise<void> {
  const subjects = subjectsFor(topic, aliases)
  const stream = await registry.resolve(subjects[0]!, false)
  const name = consumerName(group, subjects)
  const missing = () =>
    new ConfigurationError(`Group "${group}" has never read "${topic}": nothing to seek`, {
      field: 'group',
    })
  if (stream === undefined) throw missing()
  const info = await jsm.consumers.info(stream, name).catch((error: unknown) => {
    if (apiCode(error) === JetStreamApiCodes.ConsumerNotFound) throw missing()
    throw error
  })
  if (info.num_waiting > 0 || info.push_bound === true) {
    throw new ConfigurationError(
      `Group "${group}" has members reading "${topic}" (${info.num_waiting} open pull requests): close them before seeking`,
      { field: 'group' },
    )
  }
  const { deliver_policy, opt_start_seq, opt_start_time, ...kept } = info.config
  await jsm.consumers.delete(stream, name)
  await jsm.consumers.add(stream, { ...kept, ...deliverPolicy(position) })
}
