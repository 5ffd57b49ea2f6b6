import type { BusInspection, TopicInspection } from '@switchyard/core'
import type { Command } from 'commander'
import { type Context, withBus } from '../context.js'
import { NotFoundError } from '../exit-codes.js'
import { age, printJson, printTable } from '../io.js'
import { gatewayGroups, gatewayTopics } from './gateway-inspect.js'

/** True when the broker knows nothing of the topic: no event retained, no group, no dead letter. */
export function isUnknown(topic: TopicInspection): boolean {
  return topic.retained === 0 && topic.groups.length === 0 && topic.deadLetterDepth === 0
}

async function groups(ctx: Context, topic: string | undefined): Promise<void> {
  const inspection =
    ctx.options.gateway === undefined
      ? await withBus(ctx, (bus) => bus.inspect(topic))
      : await gatewayGroups(ctx, topic)
  if (topic !== undefined && inspection.topics.every(isUnknown)) {
    throw new NotFoundError(
      `Topic "${topic}" does not exist on ${inspection.transport} (no events, groups or dead letters)`,
    )
  }
  if (ctx.io.json) return printJson(ctx.io, inspection)
  const rows = inspection.topics.flatMap((t) =>
    t.groups.map((g) => [
      t.topic,
      g.group,
      g.lag,
      g.pending,
      age(g.oldestUnsettledAgeMs),
      g.deadLettered,
    ]),
  )
  printTable(
    ctx.io,
    ['TOPIC', 'GROUP', 'LAG', 'PENDING', 'OLDEST UNSETTLED', 'DEAD-LETTERED'],
    rows,
  )
}

async function topics(ctx: Context): Promise<void> {
  const inspection: BusInspection =
    ctx.options.gateway === undefined
      ? await withBus(ctx, (bus) => bus.inspect())
      : await gatewayTopics(ctx)
  if (ctx.io.json) return printJson(ctx.io, inspection)
  const rows = inspection.topics.map((t) => [
    t.topic,
    t.retained,
    t.bytes,
    t.groups.length,
    t.groups.some((g) => g.lag === null) ? null : t.groups.reduce((n, g) => n + (g.lag ?? 0), 0),
    t.deadLetterDepth,
  ])
  printTable(ctx.io, ['TOPIC', 'RETAINED', 'BYTES', 'GROUPS', 'TOTAL LAG', 'DLQ DEPTH'], rows)
}

/** `switchyard groups [topic]` and `switchyard topics`. */
export function registerInspect(program: Command, context: (cmd: Command) => Context): void {
  program
    .command('groups')
    .argument('[topic]', 'only the groups of this topic')
    .description('Consumer groups with their lag, pending, oldest unsettled age and dead letters')
    .addHelpText(
      'after',
      `
Examples:
  $ switchyard groups orders --url redis://127.0.0.1:6379
  $ switchyard groups --json | jq '.topics[].groups[] | select(.lag > 1000)'`,
    )
    .action((topic: string | undefined, _opts, cmd: Command) => groups(context(cmd), topic))

  program
    .command('topics')
    .description('Topics with retained events, bytes, groups, total lag and dead-letter depth')
    .addHelpText(
      'after',
      `
Examples:
  $ switchyard topics --url nats://127.0.0.1:4222
  $ KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 switchyard topics --json`,
    )
    .action((_opts, cmd: Command) => topics(context(cmd)))
}
