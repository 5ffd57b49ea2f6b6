import type { FastifyRequest } from 'fastify'
import type { Principal } from '../auth.js'
import type { GatewayContext } from '../context.js'

/**
 * Subprotocol a browser offers first to carry its token in `Sec-WebSocket-Protocol`
 * (`new WebSocket(url, ['switchyard.bearer', token])`): browsers cannot set `Authorization` on a
 * WebSocket, and a token in the URL would land in access logs. The server answers with this
 * protocol (ws picks the first offered), never with the token.
 */
export const BEARER_PROTOCOL = 'switchyard.bearer'

/** The `Authorization` header value for a WebSocket upgrade: the header, or the subprotocol form. */
export function authorizationOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (header !== undefined && header.length > 0) return header
  const offered = request.headers['sec-websocket-protocol']
  if (offered === undefined) return undefined
  const protocols = offered.split(',').map((p) => p.trim())
  if (protocols[0] !== BEARER_PROTOCOL || protocols[1] === undefined) return undefined
  return `Bearer ${protocols[1]}`
}

/**
 * Verifies the upgrade's token and takes a rate-limit token for its tenant, as the REST routes do.
 * @throws {HttpProblem} 401 for a missing or bad token, 429 over the tenant's limit.
 */
export async function authenticateUpgrade(
  ctx: GatewayContext,
  request: FastifyRequest,
): Promise<Principal> {
  const principal = await ctx.auth.authenticate(authorizationOf(request))
  ctx.limiter?.take(principal.tenant ?? `sub:${principal.subject ?? ''}`)
  request.principal = principal
  return principal
}
