import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import type { AsyncApiServer, Catalog, JsonSchema } from '@switchyard/schemas'
import type { Command } from 'commander'
import { loadCatalogs, loadRegistry, readJsonFile } from '../catalogs.js'
import type { Context } from '../context.js'
import { CheckFailedError, NotFoundError, UsageError } from '../exit-codes.js'
import { line, note, printJson } from '../io.js'

async function validate(ctx: Context, type: string, file: string, options: { version?: string }) {
  const registry = await loadRegistry(ctx.options.catalog)
  if (!registry.has(type))
    throw new NotFoundError(
      `No schema for event type "${type}" in the catalogs (${(ctx.options.catalog ?? ['olive', 'anumate', 'marty']).join(', ')})`,
    )
  const version = options.version === undefined ? undefined : Number(options.version)
  if (version !== undefined && !registry.versions(type).includes(version))
    throw new NotFoundError(
      `"${type}" has no version ${options.version} (it has ${registry.versions(type).join(', ')})`,
    )
  const data = await readJsonFile(file, 'data file')
  const used = version ?? Math.max(...registry.versions(type))
  const result = registry.check(type, data, { version: used })
  const issues = result.ok ? [] : result.issues
  if (ctx.io.json) printJson(ctx.io, { type, version: used, valid: result.ok, issues })
  else if (result.ok)
    line(ctx.io, `${ctx.io.colors.green('valid')}: ${file} matches ${type} v${used}`)
  else
    for (const i of issues) line(ctx.io, `${ctx.io.colors.red('invalid')} ${i.path}: ${i.message}`)
  if (!result.ok)
    throw new CheckFailedError(
      `${file} does not match ${type} v${used}: ${issues.length} issue${issues.length === 1 ? '' : 's'}`,
    )
}

/** A schema from a JSON file, or `type@version` from the catalogs. */
async function schemaArg(ctx: Context, arg: string): Promise<JsonSchema> {
  if (existsSync(arg)) return (await readJsonFile(arg, 'schema file')) as JsonSchema
  const ref = /^(.+)@(\d+)$/.exec(arg)
  if (ref !== null) {
    const registry = await loadRegistry(ctx.options.catalog)
    const schema = registry.schemaOf(ref[1]!, Number(ref[2]))
    if (schema === undefined) throw new NotFoundError(`No schema "${arg}" in the catalogs`)
    return schema as JsonSchema
  }
  throw new UsageError(
    `"${arg}" is neither a schema file nor a catalog type@version (employee.created@1)`,
  )
}

async function compat(ctx: Context, oldArg: string, newArg: string) {
  const { compatibilityProblems } = await import('@switchyard/schemas')
  const problems = compatibilityProblems(await schemaArg(ctx, oldArg), await schemaArg(ctx, newArg))
  const compatible = problems.length === 0
  if (ctx.io.json) printJson(ctx.io, { compatible, problems })
  else if (compatible)
    line(
      ctx.io,
      `${ctx.io.colors.green('compatible')}: every event valid under ${oldArg} is valid under ${newArg}`,
    )
  else for (const p of problems) line(ctx.io, `${ctx.io.colors.red('breaking')} ${p}`)
  if (!compatible)
    throw new CheckFailedError(
      `${newArg} is not backward compatible with ${oldArg}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
    )
}

/** The AsyncAPI server of the connection target. */
function serverOf(ctx: Context): Record<string, AsyncApiServer> {
  const target = ctx.target()
  if (target.kind === 'memory')
    return {
      local: { host: 'localhost', protocol: 'memory', description: 'in-process memory transport' },
    }
  const url = new URL(target.address.replace(/^kafka:\/\/([^,/]+).*$/, 'kafka://$1'))
  return { [target.kind]: { host: url.host, protocol: target.kind } }
}

async function asyncapi(ctx: Context, options: { out?: string }) {
  const catalogs = await loadCatalogs(ctx.options.catalog)
  const catalog: Catalog =
    catalogs.length === 1
      ? catalogs[0]!
      : {
          name: 'switchyard',
          title: `Events of ${catalogs.map((c) => c.title).join(', ')}`,
          version: '1.0.0',
          description: catalogs.map((c) => c.description).join(' '),
          events: catalogs.flatMap((c) => c.events),
        }
  const { toAsyncApi } = await import('@switchyard/schemas')
  const doc = toAsyncApi(catalog, { servers: serverOf(ctx) })
  const text = `${JSON.stringify(doc, null, 2)}\n`
  if (options.out === undefined) return void ctx.io.stdout.write(text)
  await writeFile(options.out, text)
  const channels = Object.keys(doc.channels).length
  if (ctx.io.json)
    printJson(ctx.io, { out: options.out, channels, messages: catalog.events.length })
  else note(ctx.io, `wrote ${options.out}: ${channels} channels, ${catalog.events.length} messages`)
}

/** `switchyard schema validate|compat` and `switchyard asyncapi`. */
export function registerSchema(program: Command, context: (cmd: Command) => Context): void {
  const schema = program
    .command('schema')
    .description('Validate event data and check schema changes')
  schema
    .command('validate')
    .argument('<type>', 'event type, e.g. employee.created')
    .argument('<file>', 'JSON file with the event data')
    .option('--version <n>', 'schema version (default the latest)')
    .description('Check event data against its schema in the catalogs (exit 5 when invalid)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ switchyard schema validate employee.created employee.json\n  $ switchyard schema validate order.created order.json --catalog ./orders-catalog.json --json',
    )
    .action((type: string, file: string, options: { version?: string }, cmd: Command) =>
      validate(context(cmd), type, file, options),
    )
  schema
    .command('compat')
    .argument('<old>', 'old schema: a JSON file or type@version from the catalogs')
    .argument('<new>', 'new schema: a JSON file or type@version')
    .description('Is the new schema backward compatible with the old one? (exit 5 when not)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ switchyard schema compat employee.created@1 employee-v2.schema.json\n  $ switchyard schema compat old.json new.json --json',
    )
    .action((oldArg: string, newArg: string, _o, cmd: Command) =>
      compat(context(cmd), oldArg, newArg),
    )
  program
    .command('asyncapi')
    .description(
      'Write the catalogs as an AsyncAPI 3.0 document (servers from --url or the environment)',
    )
    .option('--out <file>', 'write to a file instead of stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  $ switchyard asyncapi --catalog olive --url kafka://broker:9092 --out olive.asyncapi.json\n  $ switchyard asyncapi | jq .channels',
    )
    .action((options: { out?: string }, cmd: Command) => asyncapi(context(cmd), options))
}
