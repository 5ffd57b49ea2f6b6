import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyInstance } from 'fastify'

/** The paths the gateway upgrades: the live stream, monitoring, subscription streams. */
const SOCKET_PATHS = /^\/ws\/(events\/[^/?]+|monitoring|subscriptions\/[^/?]+)\/?(\?|$)/

type UpgradeListener = (request: IncomingMessage, socket: Duplex, head: Buffer) => void

/**
 * Lets only the gateway's WebSocket paths reach `@fastify/websocket`'s upgrade handling; any
 * other upgrade request is answered 404 and its socket closed. Call right after registering
 * the plugin in `app`. The plugin then lives in a context of the WebSocket routes alone (its
 * hooks stay off the REST routes), and it could no longer close the socket of an upgrade
 * request routed to a REST route: such a request never gets that far.
 */
export function guardUpgrades(app: FastifyInstance): void {
  const server = app.server
  const listeners = server.listeners('upgrade') as UpgradeListener[]
  const route = listeners[listeners.length - 1]
  if (route === undefined) return
  server.removeListener('upgrade', route)
  const guarded: UpgradeListener = (request, socket, head) => {
    if (SOCKET_PATHS.test(request.url ?? '')) {
      route.call(server, request, socket, head)
      return
    }
    socket.on('error', () => undefined)
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
  }
  server.on('upgrade', guarded)
  app.addHook('preClose', (done) => {
    server.removeListener('upgrade', guarded)
    done()
  })
}
