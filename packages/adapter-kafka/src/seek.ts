import { ConfigurationError, type StartAt } from '@switchyard/core/transport'
import type { AdminLike } from './client.js'
import { whileSettling } from './errors.js'
import { positionsAt } from './positions.js'

/**
 * Sets an existing group's committed offsets on the topic to `position`. Kafka changes a group's
 * offsets only while it has no members, so a group with members running is refused.
 */
export async function seekGroup(
  admin: AdminLike,
  topic: string,
  group: string,
  position: StartAt,
): Promise<void> {
  const [described] = (await whileSettling(() => admin.describeGroups([group]))).groups
  const members = described?.members.length ?? 0
  if (members > 0) {
    throw new ConfigurationError(
      `Group "${group}" has ${members} member(s) running (state ${described!.state}); Kafka moves ` +
        'the offsets of a group without members only: stop them before seeking',
      { field: 'group' },
    )
  }
  const [committed] = await whileSettling(() =>
    admin.fetchOffsets({ groupId: group, topics: [topic] }),
  )
  if ((committed?.partitions ?? []).every((p) => p.offset === '-1')) {
    throw new ConfigurationError(`Group "${group}" has never read "${topic}": nothing to seek`, {
      field: 'group',
    })
  }
  const positions = await positionsAt(admin, topic, position)
  await whileSettling(() =>
    admin.setOffsets({
      groupId: group,
      topic,
      partitions: [...positions].map(([partition, offset]) => ({ partition, offset })),
    }),
  )
}
