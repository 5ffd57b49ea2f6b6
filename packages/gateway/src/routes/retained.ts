import { binaryCodec, type EventEnvelope } from '@switchyard/core'
import type { GatewayContext } from '../context.js'
import { HttpProblem } from '../problem.js'

const codec = binaryCodec()

/**
 * Retained events of a topic, oldest first, through the transport's `browse` primitive (the one
 * `bus.deadLetters.list` uses): up to `max`, decoded with core's codec (which reads binary and
 * structured messages). Messages that do not decode are counted, not returned.
 */
export async function decodeRetained(
  ctx: GatewayContext,
  topic: string,
  max: number,
): Promise<{ events: EventEnvelope[]; scanned: number; undecodable: number; complete: boolean }> {
  const transport = ctx.bus.transport
  if (transport.browse === undefined) {
    throw new HttpProblem(501, `The ${transport.name} transport cannot list retained events`)
  }
  await ctx.bus.connect()
  const messages = await transport.browse(topic, { limit: max + 1 })
  const complete = messages.length <= max
  const events: EventEnvelope[] = []
  let undecodable = 0
  for (const message of messages.slice(0, max)) {
    try {
      events.push(message.event ?? codec.decode(message))
    } catch {
      undecodable++
    }
  }
  return { events, scanned: Math.min(messages.length, max), undecodable, complete }
}
