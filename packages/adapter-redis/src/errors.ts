import { ConnectionError, MessagesLostError, PublishError } from '@switchyard/core/transport'

// Replies that say "try again later": the server is loading, busy or failing over. Any other
// reply (WRONGTYPE, NOPERM, OOM: out of memory until someone frees some) is a refusal.
const TRANSIENT_REPLIES = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY|NOREPLICAS)\b/u

/** True for errors where the same command may succeed later: lost connections, transient replies. */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  if (error.name === 'ReplyError') return TRANSIENT_REPLIES.test(error.message)
  return true
}

/** True when a reply says the consumer group (or its stream) is gone, e.g. after a restart without persistence. */
export function isMissingGroup(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOGROUP')
}

/**
 * A failed `XADD` as core's publish retry reads it: a reply from the server is a `PublishError`
 * (retryable only when transient), anything else (connection lost, ioredis gave up
 * reconnecting) a retryable `ConnectionError`.
 */
export function publishError(
  topic: string,
  count: number,
  error: unknown,
): PublishError | ConnectionError {
  const message = error instanceof Error ? error.message : String(error)
  const what = `Redis did not store ${count} event(s) on "${topic}"`
  if (error instanceof Error && error.name !== 'ReplyError') return connectionError(what, error)
  return new PublishError(`${what}: ${message}`, {
    topic,
    retryable: isRetryable(error),
    cause: error,
  })
}

/**
 * Wraps a failure to reach the server in a `ConnectionError` that keeps the cause and says what
 * to check: refused credentials (WRONGPASS, NOAUTH) are not retryable and name the setting to
 * fix; a network failure (ECONNREFUSED, a timeout) asks whether the server is up at that address.
 */
export function connectionError(what: string, error: unknown): ConnectionError {
  const message = (error instanceof Error ? error.message : String(error)).replace(/\.$/u, '')
  if (/^WRONGPASS\b/u.test(message)) {
    return new ConnectionError(
      `${what}: Redis refused the credentials (${message}): check the user and password in the URL or the password option`,
      { cause: error, retryable: false },
    )
  }
  if (/^NOAUTH\b/u.test(message)) {
    return new ConnectionError(
      `${what}: the Redis server needs a password and none was given (${message}): put it in the URL (redis://:password@host:port) or the password option`,
      { cause: error, retryable: false },
    )
  }
  if (/^NOPERM\b/u.test(message)) {
    return new ConnectionError(`${what}: ${message}: grant this user the command`, {
      cause: error,
      retryable: false,
    })
  }
  const tls = tlsFailure(error)
  if (tls !== undefined) {
    return new ConnectionError(`${what}: TLS: ${tls} (${message})`, {
      cause: error,
      retryable: false,
    })
  }
  return new ConnectionError(`${what}: ${message}. Is Redis running at that address?`, {
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
    return "the server's certificate is not signed by a CA this client trusts: set tls.ca to the CA that signed it"
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return "the server's certificate is not for this host name: connect by a name it lists, or set tls.servername"
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return 'the server did not answer in TLS: use redis:// (no tls) for a plain server, or its TLS port'
  }
  return undefined
}

/** What a group lost to `lossyTrim`: `count` events of `stream` trimmed before it settled them. */
export function trimmedUnsettled(stream: string, group: string, count: number): MessagesLostError {
  return new MessagesLostError(
    `${count} event(s) of stream "${stream}" were trimmed before group "${group}" settled them (maxStreamLength with lossyTrim); they will not be delivered`,
    { count, stream, group },
  )
}
