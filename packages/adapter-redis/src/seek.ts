import { ConfigurationError } from '@switchyard/core/transport'
import type { Cluster, Redis } from 'ioredis'
import { fields } from './inspect.js'

/**
 * Moves an existing group's last-delivered id (`XGROUP SETID`): its members read from there on.
 * Entries already delivered and not yet acknowledged stay pending and are reclaimed as usual.
 */
export async function seekGroup(
  client: Redis | Cluster,
  stream: string,
  topic: string,
  group: string,
  id: string,
): Promise<void> {
  const groups = ((await client.call('XINFO', 'GROUPS', stream).catch(() => [])) as unknown[]).map(
    (reply) => String(fields(reply).name),
  )
  if (!groups.includes(group)) {
    throw new ConfigurationError(`Group "${group}" has never read "${topic}": nothing to seek`, {
      field: 'group',
    })
  }
  await client.call('XGROUP', 'SETID', stream, group, id)
}
