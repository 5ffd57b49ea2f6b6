import { errorFields, type Logger } from '@switchyard/core/transport'
import type { Cluster, Redis } from 'ioredis'

// AUTH replies ioredis answers with a console.warn of its own and then ignores: a password was
// given that the server does not need.
const NO_PASSWORD_NEEDED = /no password is set|without any password configured/u

type Callback = (error: Error | null | undefined, result?: unknown) => void

/**
 * Routes what ioredis would print to the console through `logger()`: the AUTH replies it only
 * warns about are answered here (a warning, then on as ioredis would go on), before its own
 * callback sees them. Applied to connections the transport opened (its own and its readers).
 */
export function routeClientWarnings(client: Redis | Cluster, logger: () => Logger): void {
  const target = client as unknown as { auth: (...args: unknown[]) => unknown }
  const auth = target.auth.bind(client)
  target.auth = (...args: unknown[]) => {
    const callback = args.at(-1)
    if (typeof callback === 'function') {
      args[args.length - 1] = ((error, result) => {
        if (error && NO_PASSWORD_NEEDED.test(error.message)) {
          logger().warn(
            errorFields(error),
            'redis: the server does not need a password, but one was given; it is ignored',
          )
          return (callback as Callback)(null, 'OK')
        }
        return (callback as Callback)(error, result)
      }) satisfies Callback
    }
    return auth(...args)
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
