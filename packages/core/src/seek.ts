import { ConfigurationError } from './errors.js'
import { checkString, checkTopic } from './options.js'
import { type StartAt, startAtTime } from './start-at.js'
import type { Transport } from './transport.js'

/** Checks a seek position: `'earliest'`, `'latest'`, `{ time }` or `{ sequence }`. */
function checkPosition(position: StartAt): void {
  if (position === 'earliest' || position === 'latest') return
  if (position !== null && typeof position === 'object') {
    if ('time' in position) {
      startAtTime(position)
      return
    }
    if ('sequence' in position && String(position.sequence).trim() !== '') return
  }
  throw new ConfigurationError(
    `Cannot seek to ${JSON.stringify(position)}: use 'earliest', 'latest', { time } or { sequence }`,
    { field: 'position' },
  )
}

/**
 * Moves an existing consumer group of a topic to `position` (Anumate's replay by time or
 * sequence): refused while this process has the group open on the topic, and by the transport
 * when the group does not exist or has members it cannot move safely.
 */
export async function seekGroup(
  transport: Transport,
  open: Iterable<{ readonly topic: string; readonly group: string }>,
  topic: string,
  group: string,
  position: StartAt,
): Promise<void> {
  checkTopic(topic)
  checkString(group, 'group')
  checkPosition(position)
  if (transport.seek === undefined) {
    throw new ConfigurationError(`The ${transport.name} transport cannot seek a group`, {
      field: 'transport',
    })
  }
  for (const s of open) {
    if (s.topic === topic && s.group === group) {
      throw new ConfigurationError(
        `Group "${group}" is subscribed to "${topic}" in this process: close that subscription before seeking`,
        { field: 'group' },
      )
    }
  }
  await transport.seek(topic, group, position)
}
