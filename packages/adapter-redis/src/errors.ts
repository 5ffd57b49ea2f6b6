import { ConnectionError, PublishError } from '@switchyard/core/transport'

// Replies that say "try again later": the server is loading, busy, failing over or out of
// memory for now. Anything else the server answers (WRONGTYPE, NOPERM, ...) will not heal itself.
const TRANSIENT_REPLIES =
  /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY|OOM|NOREPLICAS)\b/u

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

/** Wraps a failed `XADD` in a `PublishError` that says whether retrying can help. */
export function publishError(topic: string, count: number, error: unknown): PublishError {
  const message = error instanceof Error ? error.message : String(error)
  return new PublishError(`Redis did not store ${count} event(s) on "${topic}": ${message}`, {
    topic,
    retryable: isRetryable(error),
    cause: error,
  })
}

/** Wraps a failure to reach the server in a `ConnectionError`. */
export function connectionError(what: string, error: unknown): ConnectionError {
  const message = error instanceof Error ? error.message : String(error)
  return new ConnectionError(`${what}: ${message}. Is Redis running and reachable?`, {
    cause: error,
  })
}
