import {
  ConfigurationError,
  ConnectionError,
  PublishError,
  sleep,
} from '@switchyard/core/transport'
import type { Handshake } from './handshake.js'

/** What the adapter reads off a kafkajs error. */
interface KafkaErrorShape {
  name?: string
  type?: string
  message?: string
  retriable?: boolean
  cause?: unknown
}

// Protocol errors that a retry cannot fix: the request itself or the permissions are wrong.
const FATAL = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'SASL_AUTHENTICATION_FAILED',
  'UNSUPPORTED_SASL_MECHANISM',
  'INVALID_TOPIC_EXCEPTION',
  'UNSUPPORTED_COMPRESSION_TYPE',
  'UNSUPPORTED_VERSION',
])

// Answers that mean "your group is being rebalanced": rejoin, do not report.
const REBALANCE = new Set([
  'REBALANCE_IN_PROGRESS',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'NOT_COORDINATOR',
])

/** The innermost protocol error type of a kafkajs error (retries wrap the original). */
export function errorType(error: unknown): string | undefined {
  let current = error as KafkaErrorShape | undefined
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    if (typeof current.type === 'string') return current.type
    current = current.cause as KafkaErrorShape | undefined
  }
  return undefined
}

/** True when a retry may succeed (the broker is away, a leader moves, a request timed out). */
export function isRetryable(error: unknown): boolean {
  const type = errorType(error)
  if (type !== undefined && FATAL.has(type)) return false
  const shape = error as KafkaErrorShape
  if (shape?.name === 'KafkaJSNonRetriableError' && errorType(shape.cause) === undefined)
    return false
  return true
}

/** True for the group answers that only mean a rebalance is under way. */
export function isRebalance(error: unknown): boolean {
  const type = errorType(error)
  return type !== undefined && (REBALANCE.has(type) || type === 'NOT_COORDINATOR_FOR_GROUP')
}

/** Wraps a failed produce request: fatal causes say what to change, others are retryable. */
export function publishError(error: unknown, topic: string, count: number): PublishError {
  const type = errorType(error)
  const detail = (error as KafkaErrorShape)?.message ?? String(error)
  let hint = ''
  if (type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE') {
    hint =
      ' A record exceeds the broker or topic max.message.bytes: raise it, enable compression, or send smaller events.'
  } else if (type?.endsWith('AUTHORIZATION_FAILED')) {
    hint = ' Grant this principal WRITE (and DESCRIBE) on the topic.'
  } else if (type === 'UNSUPPORTED_COMPRESSION_TYPE') {
    hint = ' Register the codec package for this compression or choose gzip.'
  }
  return new PublishError(
    `Kafka did not confirm ${count} event(s) on "${topic}": ${detail}.${hint}`,
    {
      topic,
      retryable: isRetryable(error),
      cause: error,
    },
  )
}

/**
 * Wraps a failure to reach the cluster, naming the brokers tried. Refused SASL credentials are
 * not retryable and point at the credentials, not at the broker.
 */
export function connectionError(error: unknown, brokers: readonly string[]): ConnectionError {
  const detail = (error as KafkaErrorShape)?.message ?? String(error)
  if ((error as KafkaErrorShape)?.name === 'KafkaJSSASLAuthenticationError') {
    return new ConnectionError(
      `Kafka at ${brokers.join(',')} refused the SASL credentials: ${detail}. Check sasl.mechanism, username and password (KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD)`,
      { cause: error, retryable: false },
    )
  }
  const tls = tlsFailure(detail)
  if (tls !== undefined) {
    return new ConnectionError(
      `Could not reach Kafka at ${brokers.join(',')}: ${detail}. TLS: ${tls}`,
      {
        cause: error,
        retryable: false,
      },
    )
  }
  return new ConnectionError(
    `Could not reach Kafka at ${brokers.join(',')}: ${detail}. Is a broker listening there (KAFKA_BOOTSTRAP_SERVERS)?`,
    { cause: error },
  )
}

// Node's messages for a broker certificate this client will not accept (the handshake probe
// keeps only the message): each with what to change. Trying again cannot help.
const TLS_FAILURES: ReadonlyArray<readonly [RegExp, string]> = [
  [/certificate has expired/u, "the broker's certificate has expired: renew it"],
  [/certificate is not yet valid/u, "the broker's certificate is not valid yet"],
  [
    /self[- ]signed certificate|unable to verify the first certificate|unable to get (local )?issuer certificate/u,
    "the broker's certificate is not signed by a CA this client trusts: set ssl.ca to the CA that signed it",
  ],
  [
    /does not match certificate's altnames/u,
    "the broker's certificate is not for this host name: use a name it lists in brokers (KAFKA_BOOTSTRAP_SERVERS)",
  ],
  [
    /wrong version number/u,
    'the broker did not answer in TLS: this listener may be PLAINTEXT or SASL_PLAINTEXT (securityProtocol)',
  ],
]

/** A TLS failure in words, with the setting to change; undefined for other failures. */
function tlsFailure(detail: string): string | undefined {
  return TLS_FAILURES.find(([pattern]) => pattern.test(detail))?.[1]
}

/**
 * No bootstrap address answered as a Kafka broker. Retryable when none could be reached (a
 * broker down or restarting); not when something else answered or said nothing (a wrong port:
 * trying again cannot help).
 */
export function handshakeError(failures: readonly Handshake[]): ConnectionError {
  const detail = (f: Handshake) => (f.ok ? 'ok' : f.detail)
  const lines =
    failures.length === 1
      ? `${failures[0]!.broker}: ${detail(failures[0]!)}`
      : failures.map((f) => `${f.broker} (${detail(f)})`).join(', ')
  const tls = failures.map((f) => (f.ok ? undefined : tlsFailure(f.detail))).find(Boolean)
  if (tls !== undefined) {
    return new ConnectionError(`Could not reach Kafka at ${lines}. TLS: ${tls}`, {
      retryable: false,
    })
  }
  const unreachable = failures.every((f) => !f.ok && f.kind === 'unreachable')
  if (unreachable) {
    return new ConnectionError(
      `Could not reach Kafka at ${lines}. Is a broker listening there (KAFKA_BOOTSTRAP_SERVERS)?`,
    )
  }
  return new ConnectionError(
    `No Kafka broker answered at ${lines}. Is each address in brokers (KAFKA_BOOTSTRAP_SERVERS) a Kafka listener's host:port? Raise connectTimeoutMs only for a broker that is slow to answer.`,
    { retryable: false },
  )
}

// Kafka's own rule for topic names: these characters, at most 249 of them, and not "." or "..".
// Core accepts more (`~ : / @`, for the other brokers); the broker would refuse those only when
// the topic is created, with an error that reads as retryable.
const KAFKA_TOPIC = /^[A-Za-z0-9._-]{1,249}$/

/** A `ConfigurationError` (field `topic`) for a name Kafka cannot take, else undefined. */
export function invalidTopic(topic: string): ConfigurationError | undefined {
  if (KAFKA_TOPIC.test(topic) && topic !== '.' && topic !== '..') return undefined
  return new ConfigurationError(
    `Kafka cannot take the topic name ${JSON.stringify(topic)}: use 1-249 characters from A-Z a-z 0-9 . _ - (not "." or ".." alone)`,
    { field: 'topic' },
  )
}

/** The topic does not exist and the adapter may not create it. */
export function missingTopic(topic: string): ConfigurationError {
  return new ConfigurationError(
    `Kafka topic "${topic}" does not exist and createTopics is off: create it (kafka-topics.sh --create --topic ${topic}) or set createTopics: true`,
    { field: 'createTopics' },
  )
}

// Answers that only say "not yet": a just-created topic whose partitions KRaft is still handing
// out, or a group coordinator still loading after a (re)start.
const SETTLING = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'GROUP_LOAD_IN_PROGRESS',
  'NOT_COORDINATOR',
  'NOT_COORDINATOR_FOR_GROUP',
])

/**
 * Runs an admin call, retrying while the topic's partitions or the group coordinator are still
 * settling (kafkajs gives up on some of these at once). Other errors, and settling beyond
 * `attempts` tries 100 ms apart, are thrown.
 */
export async function whileSettling<T>(call: () => Promise<T>, attempts = 50): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call()
    } catch (error) {
      const type = errorType(error)
      if (attempt >= attempts || type === undefined || !SETTLING.has(type)) throw error
      // Connection level: the broker gives no notice once a partition or coordinator is ready.
      await sleep(100)
    }
  }
}

/** A reply's inbox topic is gone: its requester stopped waiting; sending again cannot help. */
export function goneInbox(topic: string): PublishError {
  return new PublishError(`Kafka topic "${topic}" is gone: the requester stopped waiting`, {
    topic,
    retryable: false,
  })
}

/** An answer that says "not yet" the way the broker would, so `whileSettling` waits it out. */
export function notYet(what: string): Error {
  return Object.assign(new Error(`${what} is not ready yet`), { type: 'LEADER_NOT_AVAILABLE' })
}
