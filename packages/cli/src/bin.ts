#!/usr/bin/env node
import { EXIT_CODES } from './exit-codes.js'
import { runCli } from './program.js'

const stop = new AbortController()
// `tail` runs until stopped: Ctrl-C ends it cleanly (exit 0). Any other command is interrupted
// (exit 130); a second Ctrl-C always ends the process at once.
const tailing = process.argv.slice(2).includes('tail')
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stop.abort()
    if (!tailing) process.exit(EXIT_CODES.interrupted)
  })
}
// A closed pipe (`switchyard tail x | head`) ends the command quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(EXIT_CODES.ok)
})

void runCli(process.argv, { signal: stop.signal }).then((code) => {
  // Broker clients may keep sockets and timers alive after a failed connect: leave once stdout
  // is flushed instead of waiting for them.
  process.stdout.write('', () => process.exit(code))
})
