import { binaryCodec, type EventEnvelope, typeMatcher } from '@switchyard/core'
import type { InboundMessage } from '@switchyard/core/transport'
import type { Command } from 'commander'
import { type Context, withBus } from '../context.js'
import { NotFoundError, UsageError } from '../exit-codes.js'
import { excerpt, type Io, line, note } from '../io.js'
import { parseFrom, tailTopic } from '../tail-reader.js'
import { gatewayTail } from './gateway-tail.js'
import { isUnknown } from './groups.js'

interface TailOptions {
  type?: string
  tenant?: string
  from: string
  interval: string
  count?: string
  wait?: boolean
}

function dataText(event: EventEnvelope): string {
  if (event.data === undefined) return ''
  if (event.data instanceof Uint8Array) return `<${event.data.byteLength} bytes>`
  return typeof event.data === 'string' ? event.data : JSON.stringify(event.data)
}

/** One event as a line: time, type, subject, tenant, id and the start of its data. */
function humanLine(io: Io, event: EventEnvelope): string {
  const c = io.colors
  const width = Math.max(40, (process.stdout.columns ?? 160) - 100)
  return [
    c.dim(event.time ?? '-'),
    // Padded so the columns line up for the usual lengths; longer values push, never cut.
    c.cyan(event.type.padEnd(20)),
    (event.subject ?? '-').padEnd(10),
    c.magenta((event.tenantid ?? '-').padEnd(8)),
    c.dim(event.id),
    excerpt(dataText(event), width),
  ].join('  ')
}

function positiveInt(text: string, name: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a whole number above 0`)
  return n
}

async function tail(ctx: Context, topic: string, options: TailOptions): Promise<void> {
  const from = parseFrom(options.from)
  const intervalMs = positiveInt(options.interval, '--interval')
  const count = options.count === undefined ? undefined : positiveInt(options.count, '--count')
  const matches = options.type === undefined ? () => true : typeMatcher(options.type)
  const codec = binaryCodec()
  const decode = (m: InboundMessage): EventEnvelope => m.event ?? codec.decode(m)
  const { io } = ctx
  if (ctx.options.gateway !== undefined) {
    let shown = 0
    return gatewayTail(ctx, topic, { from, types: options.type }, (event, position) => {
      if (options.tenant !== undefined && event.tenantid !== options.tenant) return true
      if (io.json) line(io, JSON.stringify({ topic, position, event }))
      else line(io, humanLine(io, event))
      return count === undefined || ++shown < count
    })
  }
  await withBus(ctx, async (bus) => {
    if (options.wait !== true) {
      const inspection = await bus.inspect(topic)
      if (inspection.topics.every(isUnknown))
        throw new NotFoundError(
          `Topic "${topic}" does not exist on ${bus.transport.name} (add --wait to tail it before its first event)`,
        )
    }
    const stop = new AbortController()
    const abort = () => stop.abort()
    io.signal.addEventListener('abort', abort, { once: true })
    const timeOf = (m: InboundMessage) => {
      try {
        const time = decode(m).time
        return time === undefined ? undefined : Date.parse(time)
      } catch {
        return undefined
      }
    }
    let shown = 0
    try {
      const onReady = () =>
        note(
          io,
          `tail: reading "${topic}" on ${bus.transport.name} from ${options.from}, no consumer group joined; Ctrl-C to stop`,
        )
      const reader = tailTopic(bus, topic, {
        from,
        intervalMs,
        signal: stop.signal,
        timeOf,
        onReady,
      })
      for await (const message of reader) {
        let event: EventEnvelope
        try {
          event = decode(message)
        } catch (error) {
          note(
            io,
            `tail: skipped an undecodable message at ${message.position ?? '?'}: ${(error as Error).message}`,
          )
          continue
        }
        if (!matches(event.type)) continue
        if (options.tenant !== undefined && event.tenantid !== options.tenant) continue
        if (io.json) line(io, JSON.stringify({ topic, position: message.position ?? null, event }))
        else line(io, humanLine(io, event))
        if (count !== undefined && ++shown >= count) break
      }
    } finally {
      io.signal.removeEventListener('abort', abort)
    }
  })
}

/** `switchyard tail <topic>`. */
export function registerTail(program: Command, context: (cmd: Command) => Context): void {
  program
    .command('tail')
    .argument('<topic>', 'topic to read')
    .description(
      'Print events as they arrive, one line each, without joining any consumer group (no group loses or re-reads an event)',
    )
    .option('--type <glob>', "only events of these types ('order.*', 'order.**')")
    .option('--tenant <tenant>', 'only events of this tenant')
    .option(
      '--from <where>',
      'latest, earliest, an ISO time, a duration back (10m, 2h) or a position tail printed',
      'latest',
    )
    .option('--count <n>', 'stop after n events')
    .option('--interval <ms>', 'how often to look for new events', '1000')
    .option('--wait', 'tail a topic that has no events yet instead of failing')
    .addHelpText(
      'after',
      `
Output: time, type, subject, tenant, id, data excerpt; with --json one JSON object per line
({"topic","position","event"}). Progress notes go to stderr.

Examples:
  $ switchyard tail orders --url redis://127.0.0.1:6379
  $ switchyard tail orders --type 'order.*' --tenant acme --from 10m
  $ switchyard tail orders --from earliest --count 100 --json | jq .event.data`,
    )
    .action((topic: string, options: TailOptions, cmd: Command) =>
      tail(context(cmd), topic, options),
    )
}
