import { createEvent, type EventEnvelope, type EventInput } from '@switchyard/core'
import type { Command } from 'commander'
import { loadRegistry, parseJson, readJsonFile } from '../catalogs.js'
import { type Context, withBus } from '../context.js'
import { UsageError } from '../exit-codes.js'
import { gatewayCall } from '../gateway-client.js'
import { line, printJson } from '../io.js'

interface PublishOptions {
  type?: string
  data?: string
  subject?: string
  tenant?: string
  key?: string
  source: string
}

const CHUNK = 500

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  let text = ''
  for await (const chunk of stdin) text += chunk.toString()
  return text
}

/** The events to publish: one from `--data`, or one per stdin line (NDJSON). */
async function inputsOf(
  options: PublishOptions,
  stdin: NodeJS.ReadableStream & { isTTY?: boolean },
) {
  const base = (): Partial<EventInput> => {
    const attrs: Partial<EventInput> = { source: options.source }
    if (options.type !== undefined) attrs.type = options.type
    if (options.subject !== undefined) attrs.subject = options.subject
    if (options.tenant !== undefined) attrs.tenantid = options.tenant
    if (options.key !== undefined) attrs.partitionkey = options.key
    return attrs
  }
  if (options.data !== undefined) {
    if (options.type === undefined) throw new UsageError('--data needs --type')
    const data = options.data.startsWith('@')
      ? await readJsonFile(options.data.slice(1), 'data file')
      : parseJson(options.data, '--data')
    return [{ ...base(), data } as EventInput]
  }
  if (stdin.isTTY === true)
    throw new UsageError('Give --data JSON, --data @file, or NDJSON on stdin (one event per line)')
  const lines = (await readStdin(stdin)).split('\n')
  const inputs: EventInput[] = []
  lines.forEach((text, index) => {
    if (text.trim() === '') return
    const value = parseJson(text, `stdin line ${index + 1}`)
    // With --type each line is the data of one event; without, each line is an event.
    if (options.type !== undefined) inputs.push({ ...base(), data: value } as EventInput)
    else if (
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      'type' in value
    )
      inputs.push({ ...base(), ...(value as EventInput) })
    else throw new UsageError(`stdin line ${index + 1} has no "type": give --type, or whole events`)
  })
  if (inputs.length === 0) throw new UsageError('Nothing to publish: stdin was empty')
  return inputs
}

async function publish(
  ctx: Context,
  topic: string,
  options: PublishOptions,
  stdin: NodeJS.ReadableStream & { isTTY?: boolean },
): Promise<void> {
  const inputs = await inputsOf(options, stdin)
  // Every event is complete and valid before the first one is sent.
  const events = inputs.map((input) => createEvent(input))
  const registry = await loadRegistry(ctx.options.catalog)
  for (const event of events) {
    if (registry.has(event.type)) registry.validate(event.type, event.data)
  }
  let sent: EventEnvelope[] = []
  if (ctx.options.gateway !== undefined) {
    for (let i = 0; i < events.length; i += CHUNK) {
      const body = JSON.stringify(events.slice(i, i + CHUNK))
      await gatewayCall(ctx, `api/v1/events?stream_id=${encodeURIComponent(topic)}`, {
        method: 'POST',
        body,
        contentType: 'application/cloudevents-batch+json',
      })
    }
    sent = events
  } else {
    await withBus(ctx, async (bus) => {
      for (let i = 0; i < events.length; i += CHUNK)
        sent.push(...(await bus.publishBatch(topic, events.slice(i, i + CHUNK))))
    })
  }
  const ids = sent.map((e) => e.id)
  if (ctx.io.json) return printJson(ctx.io, { topic, published: ids.length, ids })
  const c = ctx.io.colors
  line(
    ctx.io,
    `${c.green('published')} ${ids.length} event${ids.length === 1 ? '' : 's'} to ${topic}${ids.length === 1 ? ` (id ${ids[0]})` : ''}`,
  )
}

/** `switchyard publish <topic>`. */
export function registerPublish(
  program: Command,
  context: (cmd: Command) => Context,
  stdin: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin,
): void {
  program
    .command('publish')
    .argument('<topic>', 'topic to publish to')
    .description(
      'Publish events; data is checked against its schema when a catalog knows the type (nothing is sent if any event fails)',
    )
    .option('--type <type>', 'CloudEvents type (with stdin: every line is the data of one event)')
    .option('--data <json>', 'the data as JSON, or @file to read it from a file')
    .option('--subject <subject>', 'CloudEvents subject')
    .option('--tenant <tenant>', 'tenant id (tenantid extension)')
    .option('--key <key>', 'partition key')
    .option('--source <source>', 'CloudEvents source', 'switchyard-cli')
    .addHelpText(
      'after',
      `
Without --data, stdin is read as NDJSON: one event per line ({"type":..,"data":..}), or with
--type one data object per line.

Examples:
  $ switchyard publish orders --type order.created --data '{"id":"o-1","total":12.5}'
  $ switchyard publish employees.events --type employee.created --data @employee.json
  $ jq -c '.[]' events.json | switchyard publish orders --json`,
    )
    .action((topic: string, options: PublishOptions, cmd: Command) =>
      publish(context(cmd), topic, options, stdin),
    )
}
