import { JetStreamApiError } from '@nats-io/jetstream'
import {
  ClosedConnectionError,
  DrainingConnectionError,
  errors,
  RequestError,
} from '@nats-io/transport-node'
import {
  ClosedError,
  ConfigurationError,
  ConnectionError,
  MessagesLostError,
  PublishError,
  TimeoutError,
} from '@switchyard/core/transport'

/**
 * JetStream API errors that pass: 10008 "JetStream system temporarily unavailable", 10039
 * "JetStream not enabled for account" (answered for a moment while a restarted server recovers).
 */
const TRANSIENT_API_CODES = new Set([10008, 10039])

/** True when nobody answered on the subject: no subscriber, or no stream (JetStream restarting). */
export function noResponders(error: unknown): boolean {
  if (error instanceof RequestError && error.isNoResponders()) return true
  // nats.js turns "no responders" on a JetStream publish into this; its class is not exported.
  return (
    error instanceof errors.NoRespondersError || (error as Error)?.name === 'JetStreamNotEnabled'
  )
}

/** JetStream API error code of an error, when it has one. */
export function apiCode(error: unknown): number | undefined {
  return error instanceof JetStreamApiError ? error.code : undefined
}

/** The transport was closed; publish and subscribe throw this from then on. */
export function closedError(): ClosedError {
  return new ClosedError('The NATS transport is closed')
}

/**
 * A failed publish as a core error whose `retryable` tells the bus whether trying again can help:
 * an ack timeout (`TimeoutError`), no stream answering or a transient JetStream state
 * (`ConnectionError`) can; a refusal (too large, not permitted, rejected by the stream) or a
 * connection closed for good cannot (`PublishError`, not retryable).
 */
export function publishError(topic: string, error: unknown, timeoutMs: number): Error {
  if (error instanceof ConfigurationError || error instanceof ClosedError) return error
  const reason = (error as Error)?.message ?? String(error)
  const where = `NATS publish to "${topic}"`
  if (error instanceof errors.TimeoutError) {
    return new TimeoutError(`${where} got no ack within ${timeoutMs} ms`, {
      timeoutMs,
      cause: error,
    })
  }
  if (noResponders(error)) {
    return new ConnectionError(
      `${where}: no stream answered (is JetStream enabled and the stream present?)`,
      { cause: error },
    )
  }
  const refused =
    error instanceof ClosedConnectionError ||
    error instanceof DrainingConnectionError ||
    error instanceof errors.InvalidArgumentError ||
    error instanceof errors.PermissionViolationError ||
    error instanceof errors.AuthorizationError ||
    (error instanceof JetStreamApiError && !TRANSIENT_API_CODES.has(error.code))
  if (!refused) return new ConnectionError(`${where} failed: ${reason}`, { cause: error })
  const hint = reason.includes('max_payload')
    ? ' (the message is larger than the server allows: raise max_payload in the nats-server' +
      ' config, up to 64 MB)'
    : /maximum (messages|bytes) exceeded/i.test(reason)
      ? ' (the stream is full and refuses new messages rather than drop unread ones: raise' +
        ' maxMsgs / maxBytes, add maxAgeMs, or set discard: "old" to drop the oldest instead)'
      : ''
  return new PublishError(`${where} failed: ${reason}${hint}`, {
    topic,
    retryable: false,
    cause: error,
  })
}

/**
 * The first connection failed; says where it tried and what to check. Refused credentials are
 * not retryable and point at the credentials, not at the server.
 */
export function connectError(servers: readonly string[], error: unknown): ConnectionError {
  const reason = (error as Error)?.message ?? String(error)
  const where = `Could not connect to NATS at ${servers.join(', ')}: ${reason}`
  if (isAuthFailure(error)) {
    return new ConnectionError(
      `${where}. The server refused the credentials: check token, user/pass, nkeySeed or credsFile (NATS_TOKEN, NATS_USER/NATS_PASSWORD, NATS_NKEY, NATS_CREDS)`,
      { cause: error, retryable: false },
    )
  }
  const tls = tlsFailure(error)
  if (tls !== undefined) {
    return new ConnectionError(`${where}. TLS: ${tls}`, { cause: error, retryable: false })
  }
  return new ConnectionError(`${where}. Is a nats-server listening there (NATS_URL)?`, {
    cause: error,
  })
}

// Node's codes for a server certificate this client will not accept: trying again cannot help.
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
])

/** A TLS handshake failure in words, with the setting to change; undefined for other errors. */
function tlsFailure(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code
  if (code === 'CERT_HAS_EXPIRED') return "the server's certificate has expired: renew it"
  if (code === 'CERT_NOT_YET_VALID') return "the server's certificate is not valid yet"
  if (typeof code === 'string' && UNTRUSTED.has(code)) {
    return "the server's certificate is not signed by a CA this client trusts: set tls.ca (or tls.caFile, NATS_CA) to the CA that signed it"
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return "the server's certificate is not for this host name: connect by a name it lists"
  }
  return undefined
}

/** True for a server that refused the client's credentials (or wanted some). */
function isAuthFailure(error: unknown): boolean {
  if (error instanceof errors.AuthorizationError) return true
  return /authorization violation|authentication (expired|revoked|timeout)|user authentication/iu.test(
    (error as Error)?.message ?? '',
  )
}

/** JetStream is not enabled on the server the transport reached. */
export function jetStreamMissing(server: string, error: unknown): ConnectionError {
  return new ConnectionError(
    `JetStream is not enabled on ${server}: ` +
      'start nats-server with -js (and a store directory, -sd)',
    { cause: error },
  )
}

/** Messages of `stream` lost before the group settled them (`sequences`: a run's two ends, or each one). */
export function messagesLost(
  message: string,
  stream: string,
  sequences: readonly number[],
  count: number,
): MessagesLostError {
  return new MessagesLostError(message, { count, stream, positions: sequences.map(String) })
}
