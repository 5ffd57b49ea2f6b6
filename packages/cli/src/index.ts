// `@switchyard/cli`: the `switchyard` bin, and the same program for scripts and tests.

export type { RunEnvironment } from './context.js'
export type { ExitCode } from './exit-codes.js'
export { CheckFailedError, EXIT_CODES, NotFoundError, UsageError } from './exit-codes.js'
export { runCli } from './program.js'
