import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { SwitchyardError } from '@switchyard/core'

const SECRET_PREFIX = 'whsec_'

/** A new signing secret: `whsec_` and 32 random bytes in base64, as Standard Webhooks writes them. */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`
}

/** The HMAC key of a `whsec_` secret (its bytes). @throws {WebhookVerificationError} when empty. */
export function signingKey(secret: string): Buffer {
  const base64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret
  const key = Buffer.from(base64, 'base64')
  if (key.length === 0) throw new WebhookVerificationError('The webhook secret is empty')
  return key
}

/**
 * The `webhook-signature` value of a request: `v1,` and the base64 HMAC-SHA256 of
 * `<id>.<timestamp>.<body>` keyed with the secret's bytes (Standard Webhooks).
 */
export function signWebhook(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: Uint8Array | string,
): string {
  return signWith(signingKey(secret), id, timestampSeconds, body)
}

/** `signWebhook` with the key already decoded (`signingKey`): the sender signs every request. */
export function signWith(
  key: Buffer,
  id: string,
  timestampSeconds: number,
  body: Uint8Array | string,
): string {
  const hmac = createHmac('sha256', key)
  hmac.update(`${id}.${timestampSeconds}.`)
  hmac.update(body)
  return `v1,${hmac.digest('base64')}`
}

/** The request could not be verified: a missing header, a stale timestamp or a wrong signature. */
export class WebhookVerificationError extends SwitchyardError {
  constructor(message: string) {
    super(message, { code: 'ERR_WEBHOOK_VERIFICATION', retryable: false })
  }
}

/** Options of `verifyWebhook`. */
export interface VerifyWebhookOptions {
  /** The subscription's secret (`whsec_...`), as `POST /api/v1/subscriptions` returned it. */
  secret: string
  /** The request headers: a `Headers` object or Node's `IncomingHttpHeaders`. */
  headers: Headers | Record<string, string | string[] | undefined>
  /** The raw request body, exactly as received. */
  body: Uint8Array | string
  /** Largest accepted difference between `webhook-timestamp` and now, in seconds. @default 300 */
  toleranceSeconds?: number
  /** The current time in ms since the epoch (tests). @default Date.now() */
  now?: number
}

function header(headers: VerifyWebhookOptions['headers'], name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') {
    return (headers as Headers).get(name) ?? undefined
  }
  const value = (headers as Record<string, string | string[] | undefined>)[name]
  return Array.isArray(value) ? value[0] : value
}

/**
 * Checks a webhook request on the receiving side: the `webhook-id`, `webhook-timestamp` (within
 * `toleranceSeconds` of now, against replays) and `webhook-signature` headers against the raw
 * body. Accepts any of several space-separated `v1,` signatures (secret rotation).
 * @returns the message id (the CloudEvent id, the same on every retry) and timestamp.
 * @throws {WebhookVerificationError} when a header is missing, the timestamp is out of range
 * or no signature matches.
 * @example
 * const { id } = verifyWebhook({ secret, headers: req.headers, body: rawBody })
 */
export function verifyWebhook(options: VerifyWebhookOptions): { id: string; timestamp: number } {
  const id = header(options.headers, 'webhook-id')
  const stamp = header(options.headers, 'webhook-timestamp')
  const signatures = header(options.headers, 'webhook-signature')
  if (id === undefined || stamp === undefined || signatures === undefined) {
    throw new WebhookVerificationError(
      'The request lacks webhook-id, webhook-timestamp or webhook-signature',
    )
  }
  const timestamp = Number(stamp)
  if (!/^\d+$/.test(stamp) || !Number.isSafeInteger(timestamp)) {
    throw new WebhookVerificationError('webhook-timestamp is not a number of seconds')
  }
  const tolerance = options.toleranceSeconds ?? 300
  const now = Math.floor((options.now ?? Date.now()) / 1000)
  if (Math.abs(now - timestamp) > tolerance) {
    throw new WebhookVerificationError(
      `webhook-timestamp is more than ${tolerance} s away from now`,
    )
  }
  const expected = Buffer.from(signWebhook(options.secret, id, timestamp, options.body).slice(3))
  for (const candidate of signatures.split(' ')) {
    const [version, value] = candidate.split(',', 2)
    if (version !== 'v1' || value === undefined) continue
    const given = Buffer.from(value)
    if (given.length === expected.length && timingSafeEqual(given, expected)) {
      return { id, timestamp }
    }
  }
  throw new WebhookVerificationError('No webhook-signature matches the body and the secret')
}
