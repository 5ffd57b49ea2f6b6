import { ConfigurationError, typeMatcher } from '@switchyard/core'
import {
  createRemoteJWKSet,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  SignJWT,
} from 'jose'
import { HttpProblem } from './problem.js'
import { TokenCache, type TokenCacheOptions } from './token-cache.js'

/** The roles a token can carry. */
export type Role = 'admin' | 'publisher' | 'subscriber'

const ROLES = new Set<Role>(['admin', 'publisher', 'subscriber'])

/** How tokens are checked. */
export interface AuthOptions {
  /** Shared secret for HS256/HS384/HS512 tokens. */
  secret?: string
  /** URL of a JSON Web Key Set for RS256/ES256 tokens (fetched and cached by jose). */
  jwksUrl?: string
  /** Accepted algorithm. @default 'HS256' with a secret, 'RS256' with a JWKS URL */
  algorithm?: string
  /** Claim holding the tenant id. @default 'tenant_id' */
  tenantClaim?: string
  /** Claim holding the roles (a list, or a space- or comma-separated string). @default 'roles' */
  rolesClaim?: string
  /** Expected `iss`, when set. */
  issuer?: string
  /** Expected `aud`, when set. */
  audience?: string
  /**
   * Verified tokens remembered so a repeated token skips the signature check (until its `exp`,
   * at most `maxAgeMs`); `false` checks every request. @default { maxEntries: 10_000, maxAgeMs: 60_000 }
   */
  tokenCache?: TokenCacheOptions | false
}

/** Who is calling, from a verified token. */
export interface Principal {
  /** The token's `sub`, when it has one. */
  subject: string | undefined
  /** The tenant the token is scoped to; undefined for a token of no tenant (operators). */
  tenant: string | undefined
  /** Each role with the stream globs it applies to (`undefined`: every stream). */
  roles: Map<Role, string[] | undefined>
}

/** Verifies bearer tokens and answers role questions. */
export interface Authenticator {
  /**
   * The principal of an `Authorization` header value.
   * @throws {HttpProblem} 401 when the header is missing, malformed, expired or badly signed.
   */
  authenticate(header: string | undefined): Promise<Principal>
  /**
   * The principal of a header value verified before and still remembered, without waiting;
   * undefined when `authenticate` has to be called. Lets a hook skip a promise per request.
   */
  remembered?(header: string | undefined): Principal | undefined
}

/**
 * Checks bearer JWTs with jose: a shared secret (HS256 by default) or a JWKS URL (RS256/ES256).
 * @throws {ConfigurationError} when neither `secret` nor `jwksUrl` is given, or the algorithm
 * does not fit the key kind.
 */
export function createAuthenticator(options: AuthOptions): Authenticator {
  const tenantClaim = options.tenantClaim ?? 'tenant_id'
  const rolesClaim = options.rolesClaim ?? 'roles'
  let key: Uint8Array | JWTVerifyGetKey
  let algorithm: string
  if (options.jwksUrl !== undefined) {
    key = createRemoteJWKSet(new URL(options.jwksUrl))
    algorithm = options.algorithm ?? 'RS256'
    if (algorithm.startsWith('HS')) {
      throw new ConfigurationError(
        `JWT algorithm ${algorithm} needs a shared secret, not a JWKS URL`,
        {
          field: 'auth.algorithm',
        },
      )
    }
  } else if (options.secret !== undefined && options.secret.length > 0) {
    key = new TextEncoder().encode(options.secret)
    algorithm = options.algorithm ?? 'HS256'
    if (!algorithm.startsWith('HS')) {
      throw new ConfigurationError(
        `JWT algorithm ${algorithm} needs a JWKS URL (JWT_JWKS_URL), not a secret`,
        { field: 'auth.algorithm' },
      )
    }
  } else {
    throw new ConfigurationError(
      'auth needs a secret (JWT_SECRET_KEY) or a jwksUrl (JWT_JWKS_URL)',
      { field: 'auth' },
    )
  }
  const verifyOptions = {
    algorithms: [algorithm],
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    ...(options.audience === undefined ? {} : { audience: options.audience }),
  }
  const cache =
    options.tokenCache === false ? undefined : new TokenCache<Principal>(options.tokenCache)
  // Keyed by the whole header value, so a hit needs no parsing.
  const remembered = (header: string | undefined): Principal | undefined =>
    header === undefined ? undefined : cache?.get(header)
  return {
    remembered,
    async authenticate(header) {
      const known = remembered(header)
      if (known !== undefined) return known
      const token = bearerToken(header)
      let payload: JWTPayload
      try {
        // jose overloads jwtVerify per key kind, so each kind gets its own call.
        payload =
          typeof key === 'function'
            ? (await jwtVerify(token, key, verifyOptions)).payload
            : (await jwtVerify(token, key, verifyOptions)).payload
      } catch (error) {
        // The key set could not be had: the gateway's problem, not the caller's token.
        if (typeof key === 'function' && keySetUnavailable(error)) {
          throw new HttpProblem(
            503,
            'The key set (JWKS) to verify tokens is not reachable; try again',
            {
              headers: { 'retry-after': '5' },
            },
          )
        }
        throw unauthorized(reasonOf(error))
      }
      const principal = principalOf(payload, tenantClaim, rolesClaim)
      cache?.set(header!, principal, payload.exp)
      return principal
    },
  }
}

function bearerToken(header: string | undefined): string {
  if (header === undefined || header.length === 0) {
    throw unauthorized('This route needs an Authorization: Bearer <token> header')
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  if (match === null) throw unauthorized('The Authorization header must be "Bearer <token>"')
  return match[1]!
}

function unauthorized(detail: string): HttpProblem {
  return new HttpProblem(401, detail, {
    headers: { 'www-authenticate': 'Bearer realm="switchyard"' },
  })
}

function keySetUnavailable(error: unknown): boolean {
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return true
  return !(error instanceof errors.JOSEError)
}

function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'The token has expired'
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return 'The token signature does not verify with the configured key'
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return 'The token is signed with an algorithm this gateway does not accept'
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    return `The token claim "${error.claim}" is not acceptable`
  }
  if (error instanceof errors.JWKSNoMatchingKey) return 'No key of the JWKS matches the token'
  if (error instanceof errors.JOSEError) return 'The token is not a well-formed signed JWT'
  return 'The token could not be verified'
}

/** Reads tenant and roles; roles may be scoped to streams as `publisher:orders.*`. */
export function principalOf(
  payload: JWTPayload,
  tenantClaim: string,
  rolesClaim: string,
): Principal {
  const tenantValue = payload[tenantClaim]
  const tenant = typeof tenantValue === 'string' && tenantValue.length > 0 ? tenantValue : undefined
  const raw = payload[rolesClaim]
  const list = Array.isArray(raw)
    ? raw.filter((r): r is string => typeof r === 'string')
    : typeof raw === 'string'
      ? raw.split(/[\s,]+/)
      : []
  const roles = new Map<Role, string[] | undefined>()
  for (const entry of list) {
    const [name, scope] = entry.split(':', 2) as [string, string | undefined]
    if (!ROLES.has(name as Role)) continue
    const role = name as Role
    if (scope === undefined || scope === '' || scope === '*') roles.set(role, undefined)
    else if (!roles.has(role) || roles.get(role) !== undefined) {
      roles.set(role, [...(roles.get(role) ?? []), scope])
    }
  }
  return { subject: typeof payload.sub === 'string' ? payload.sub : undefined, tenant, roles }
}

/** True when the principal has `role` (or admin) for `stream` (any stream when omitted). */
export function hasRole(principal: Principal, role: Role, stream?: string): boolean {
  for (const candidate of role === 'admin' ? (['admin'] as const) : (['admin', role] as const)) {
    if (!principal.roles.has(candidate)) continue
    const scopes = principal.roles.get(candidate)
    if (scopes === undefined || stream === undefined) return true
    if (scopes.some((glob) => glob === stream || typeMatcher(glob)(stream))) return true
  }
  return false
}

/**
 * Refuses a principal without `role` for `stream`.
 * @throws {HttpProblem} 403 naming the role needed.
 */
export function requireRole(principal: Principal, role: Role, stream?: string): void {
  if (hasRole(principal, role, stream)) return
  const where = stream === undefined ? '' : ` on stream "${stream}"`
  throw new HttpProblem(403, `This action needs the "${role}" role${where}`)
}

/** Options of `mintToken`. */
export interface MintOptions {
  /** HS256 secret. */
  secret: string
  /** Tenant claim value; omitted for an operator token. */
  tenant?: string | undefined
  /** Roles (`publisher`, `subscriber:orders.*`, `admin`). */
  roles: string[]
  /** Token lifetime in hours. @default 24 */
  expirationHours?: number
  /** `sub` claim. @default 'switchyard-gateway' */
  subject?: string
  /** Claim name of the tenant. @default 'tenant_id' */
  tenantClaim?: string
  /** Algorithm (an HMAC one). @default 'HS256' */
  algorithm?: string
}

/**
 * Signs a token with a shared secret, as `switchyard-gateway token` does.
 * @example const token = await mintToken({ secret, tenant: 'acme', roles: ['publisher'] })
 */
export async function mintToken(options: MintOptions): Promise<string> {
  const claims: JWTPayload = { roles: options.roles }
  if (options.tenant !== undefined) claims[options.tenantClaim ?? 'tenant_id'] = options.tenant
  const hours = options.expirationHours ?? 24
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.algorithm ?? 'HS256', typ: 'JWT' })
    .setSubject(options.subject ?? 'switchyard-gateway')
    .setIssuedAt()
    .setExpirationTime(`${Math.round(hours * 3600)}s`)
    .sign(new TextEncoder().encode(options.secret))
}
