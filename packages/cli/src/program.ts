import { Command, CommanderError, Option } from 'commander'
import { registerDlq } from './commands/dlq.js'
import { registerInspect } from './commands/groups.js'
import { registerOutbox } from './commands/outbox.js'
import { registerPublish } from './commands/publish.js'
import { registerSchema } from './commands/schema.js'
import { registerTail } from './commands/tail.js'
import { type Context, createContext, type GlobalOptions, type RunEnvironment } from './context.js'
import { EXIT_CODES, type ExitCode } from './exit-codes.js'
import { reportError } from './report.js'

const EXIT_HELP = `
Connection:
  --url redis://host:6379 | nats://host:4222 | kafka://[user:pass@]host:9092 | memory:
  or the adapters' variables: SWITCHYARD_TRANSPORT, KAFKA_BOOTSTRAP_SERVERS (KAFKA_BROKERS),
  REDIS_URL, NATS_URL (plus their credentials: KAFKA_SASL_*, NATS_USER, NATS_TOKEN, ...).
  outbox commands read DATABASE_URL (or SWITCHYARD_POSTGRES_URL).

Exit codes:
  0 ok, 1 failed, 2 bad usage, 3 cannot connect or refused credentials,
  4 not found (topic, group, entry, type), 5 check failed (invalid data, incompatible schema),
  130 interrupted

Examples:
  $ switchyard topics --url redis://127.0.0.1:6379
  $ switchyard tail orders --type 'order.*' --url nats://127.0.0.1:4222
  $ switchyard dlq replay orders.dlq --filter type=order.created --url kafka://127.0.0.1:9092`

/** Builds the `switchyard` program; each command reads its context from the global options. */
export function buildProgram(run: RunEnvironment): Command {
  const program = new Command()
    .name('switchyard')
    .description(
      'Operate a Switchyard event bus: tail, publish, dead letters, lag, outbox, schemas.',
    )
    .option('--url <url>', 'broker URL (redis://, nats://, kafka://host:port, memory:)')
    .option(
      '--gateway <url>',
      'go through a Switchyard gateway instead of the broker (all but outbox prune)',
    )
    .option('--token <token>', 'bearer token for --gateway (else SWITCHYARD_TOKEN)')
    .option('--json', 'machine-readable JSON on stdout')
    .option('--catalog <name...>', 'schema catalogs: olive, anumate, marty or a JSON file')
    .addOption(
      new Option('--timeout <ms>', 'how long to wait for the broker, database or gateway').default(
        '10000',
      ),
    )
    .option('--verbose', 'print the transport and client logs on stderr')
    .addHelpText('after', EXIT_HELP)
    .showHelpAfterError('(add --help for usage)')
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({
      writeOut: (text) => run.stdout.write(text),
      writeErr: (text) => run.stderr.write(text),
    })
  const context = (cmd: Command): Context =>
    createContext(cmd.optsWithGlobals() as GlobalOptions, run)
  registerTail(program, context)
  registerPublish(program, context)
  registerDlq(program, context)
  registerInspect(program, context)
  registerOutbox(program, context)
  registerSchema(program, context)
  // Every command (and sub-command) reports its own usage errors the same way.
  const walk = (cmd: Command) => {
    cmd.exitOverride().showHelpAfterError('(add --help for usage)')
    cmd.configureOutput({
      writeOut: (text) => run.stdout.write(text),
      writeErr: (text) => run.stderr.write(text),
    })
    cmd.commands.forEach(walk)
  }
  program.commands.forEach(walk)
  return program
}

/**
 * Runs `switchyard` with the given arguments (as `process.argv`, node and script first) and
 * resolves with the exit code; errors are printed as one line on stderr, never thrown.
 * @example process.exitCode = await runCli(process.argv)
 */
export async function runCli(
  argv: readonly string[],
  run: Partial<RunEnvironment> = {},
): Promise<ExitCode> {
  const environment: RunEnvironment = {
    stdout: run.stdout ?? process.stdout,
    stderr: run.stderr ?? process.stderr,
    env: run.env ?? process.env,
    signal: run.signal ?? new AbortController().signal,
  }
  const program = buildProgram(environment)
  try {
    await program.parseAsync([...argv])
    return EXIT_CODES.ok
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander printed its own message (and help) already; help and version are not errors.
      if (error.exitCode === 0) return EXIT_CODES.ok
      return EXIT_CODES.usage
    }
    return reportError(error, environment.stderr)
  }
}
