import { JetStreamApiError } from '@nats-io/jetstream'
import { ClosedConnectionError, DrainingConnectionError, errors } from '@nats-io/transport-node'
import { ConnectionError, PublishError } from '@switchyard/core/transport'

/**
 * What a failed NATS call means for the caller:
 * - `retry`: transient (ack timeout, reconnecting); the same call may succeed.
 * - `no-stream`: nothing answered on the subject: the stream is gone or JetStream is restarting.
 * - `fatal`: retrying cannot help (closed connection, rejected by the server).
 */
export type FailureKind = 'retry' | 'no-stream' | 'fatal'

/**
 * JetStream API errors that pass: 10008 "JetStream system temporarily unavailable", 10039
 * "JetStream not enabled for account" (answered for a moment while a restarted server recovers).
 */
const TRANSIENT_API_CODES = new Set([10008, 10039])

/** Sorts a NATS or JetStream error into `retry`, `no-stream` or `fatal`. */
export function classify(error: unknown): FailureKind {
  // nats.js turns "no responders" on a JetStream subject into this; its class is not exported.
  if ((error as Error)?.name === 'JetStreamNotEnabled') return 'no-stream'
  if (error instanceof errors.NoRespondersError) return 'no-stream'
  if (error instanceof ClosedConnectionError || error instanceof DrainingConnectionError) {
    return 'fatal'
  }
  if (error instanceof JetStreamApiError) {
    return TRANSIENT_API_CODES.has(error.code) ? 'retry' : 'fatal'
  }
  if (error instanceof errors.InvalidArgumentError) return 'fatal'
  if (error instanceof errors.PermissionViolationError) return 'fatal'
  if (error instanceof errors.AuthorizationError) return 'fatal'
  return 'retry'
}

/** JetStream API error code of an error, when it has one. */
export function apiCode(error: unknown): number | undefined {
  return error instanceof JetStreamApiError ? error.code : undefined
}

/** A publish that did not get its JetStream ack, said in words a user can act on. */
export function publishError(topic: string, error: unknown, waitedMs: number): PublishError {
  const kind = classify(error)
  const reason = (error as Error)?.message ?? String(error)
  const hint = reason.includes('max_payload')
    ? ' (the message is larger than the server allows: raise max_payload in the nats-server' +
      ' config, up to 64 MB)'
    : kind === 'no-stream'
      ? ' (no stream answered: is JetStream enabled and the stream present?)'
      : kind === 'fatal'
        ? ''
        : ` (still failing after ${waitedMs} ms: is nats-server reachable?)`
  return new PublishError(`NATS publish to "${topic}" failed: ${reason}${hint}`, {
    topic,
    retryable: kind !== 'fatal',
    cause: error,
  })
}

/** The first connection failed; says where it tried and what to check. */
export function connectError(servers: readonly string[], error: unknown): ConnectionError {
  const reason = (error as Error)?.message ?? String(error)
  return new ConnectionError(
    `Could not connect to NATS at ${servers.join(', ')}: ${reason}. ` +
      'Is nats-server running (bash tooling/services/nats.sh) and the URL right (NATS_URL)?',
    { cause: error },
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
