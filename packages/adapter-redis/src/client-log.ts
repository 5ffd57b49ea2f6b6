import { errorFields, type Logger } from '@switchyard/core/transport'
import type { Cluster, Redis } from 'ioredis'

// AUTH replies ioredis answers with a console.warn of its own and then ignores: a password was
// given that the server does not need.
const NO_PASSWORD_NEEDED = /no password is set|without any password configured/u

type Callback = (error: Error | null | undefined, result?: unknown) => void

/**
 * Routes what ioredis would print to the console through `logger()`: the replies it only warns
 * about are answered here (a warning, then on as ioredis would go on) before its own callback
 * sees them: AUTH with a password the server does not need, and an `INFO` the user may not run
 * (ioredis then skips its ready check). Only ioredis's own callback-style calls are touched;
 * promise calls keep their errors. Applied to connections the transport opened.
 */
export function routeClientWarnings(client: Redis | Cluster, logger: () => Logger): void {
  intercept(client, 'auth', NO_PASSWORD_NEEDED, 'OK', (error) =>
    logger().warn(
      errorFields(error),
      'redis: the server does not need a password, but one was given; it is ignored',
    ),
  )
  // ioredis reads an empty INFO as "ready", which is what it does itself after warning.
  intercept(client, 'info', /^NOPERM\b/u, '', (error) =>
    logger().warn(
      errorFields(error),
      'redis: this user may not run INFO, so the ready check is skipped; grant +info to keep it',
    ),
  )
}

/** Wraps `client[command]` so a callback-style call that fails with `reply` gets `result`. */
function intercept(
  client: Redis | Cluster,
  command: 'auth' | 'info',
  reply: RegExp,
  result: unknown,
  log: (error: Error) => void,
): void {
  const target = client as unknown as Record<string, (...args: unknown[]) => unknown>
  const original = target[command]!.bind(client)
  target[command] = (...args: unknown[]) => {
    const callback = args.at(-1)
    if (typeof callback === 'function') {
      args[args.length - 1] = ((error, value) => {
        if (error && reply.test(error.message)) {
          log(error)
          return (callback as Callback)(null, result)
        }
        return (callback as Callback)(error, value)
      }) satisfies Callback
    }
    return original(...args)
  }
}

/**
 * Logs a connection's errors: each new one once as a warning (ioredis reconnects on its own),
 * and a return to ready after errors. Returns the last error, for health().
 */
export function watchConnection(
  client: Redis | Cluster,
  logger: () => Logger,
): { last(): Error | undefined } {
  let last: Error | undefined
  client.on('error', (error: Error) => {
    if (last?.message !== error.message) {
      logger().warn(errorFields(error), `redis: connection error: ${error.message}`)
    }
    last = error
  })
  client.on('ready', () => {
    if (last !== undefined) logger().info({}, 'redis: connected again')
    last = undefined
  })
  return { last: () => last }
}
