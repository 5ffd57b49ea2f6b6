// Calls to the gateway's REST API with the session's token. The console holds no rights of its
// own: whatever the token's tenant and roles refuse in the API is refused here, with its detail.

/** A refused or failed API call, with the problem's detail. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/** Path of the gateway under which the console is mounted (`''` at the root). */
export const BASE = location.pathname.replace(/\/console(\/.*)?$/, '')

/** The WebSocket URL of a gateway path. */
export function wsUrl(path: string): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
  return `${scheme}//${location.host}${BASE}${path}`
}

/** Subprotocols that carry the token on a WebSocket upgrade (browsers cannot set headers). */
export function bearerProtocols(token: string): string[] {
  return ['switchyard.bearer', token]
}

/** Sends one request; resolves with the JSON body. @throws {ApiError} on a non-2xx answer. */
export async function api<T>(
  token: string,
  path: string,
  init: { method?: string; json?: unknown } = {},
): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` }
  if (init.json !== undefined) headers['content-type'] = 'application/json'
  let response: Response
  try {
    response = await fetch(`${BASE}${path}`, {
      method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
      headers,
      ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
    })
  } catch {
    throw new ApiError(0, 'The gateway did not answer')
  }
  const text = await response.text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  if (!response.ok) {
    const problem = body as { detail?: string; title?: string } | undefined
    throw new ApiError(response.status, problem?.detail ?? problem?.title ?? response.statusText)
  }
  return body as T
}

/** Tenant and roles written in a token, for display only (the gateway verifies it). */
export function claimsOf(token: string): { tenant: string | null; roles: string[]; sub: string } {
  try {
    const part = token.split('.')[1] ?? ''
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'))
    const claims = JSON.parse(json) as Record<string, unknown>
    const raw = claims.roles
    const roles = Array.isArray(raw)
      ? raw.map(String)
      : typeof raw === 'string'
        ? raw.split(/[\s,]+/)
        : []
    const tenant = typeof claims.tenant_id === 'string' ? claims.tenant_id : null
    return { tenant, roles, sub: typeof claims.sub === 'string' ? claims.sub : '' }
  } catch {
    return { tenant: null, roles: [], sub: '' }
  }
}
