import { ConfigurationError } from '@switchyard/core'
import { envReader } from '@switchyard/core/transport'

/** Settings of Marty's `EventPublisher` (Marty's `EventPublisherConfig`). */
export interface EventPublisherConfig {
  /** Service name: the `source` of its events and the second segment of its topics. */
  serviceName: string
  /** First topic segment; empty for none. @default 'marty' */
  topicPrefix?: string
  /** Write events to the outbox (in the caller's transaction) instead of publishing. @default false */
  useOutbox?: boolean
}

const SEGMENT = /^[A-Za-z0-9_-]{1,100}$/

/**
 * Reads `SERVICE_NAME`, `EVENT_TOPIC_PREFIX` and `USE_OUTBOX_PATTERN` (core's one boolean parser:
 * `true/1/yes/on`, `false/0/no/off`).
 * @throws {ConfigurationError} when `SERVICE_NAME` is missing or a value is malformed.
 * @example const publisher = new EventPublisher({ ...fromEnv(), bus })
 */
export function fromEnv(
  env: Record<string, string | undefined> = process.env,
): EventPublisherConfig {
  const serviceName = env.SERVICE_NAME
  if (serviceName === undefined || serviceName === '') {
    throw new ConfigurationError('SERVICE_NAME is required', { field: 'SERVICE_NAME' })
  }
  const config: EventPublisherConfig = { serviceName }
  if (env.EVENT_TOPIC_PREFIX !== undefined) config.topicPrefix = env.EVENT_TOPIC_PREFIX
  const useOutbox = envReader(env).bool('USE_OUTBOX_PATTERN')
  if (useOutbox !== undefined) config.useOutbox = useOutbox
  return config
}

/**
 * Marty's topic naming: `{prefix}.{service}.{aggregate}.{eventType}` (no prefix segment when the
 * prefix is empty).
 * @throws {ConfigurationError} when a segment is empty or holds a dot or other punctuation.
 * @example topicName({ prefix: 'marty', service: 'user-service', aggregate: 'user', eventType: 'user_created' })
 */
export function topicName(parts: {
  prefix?: string
  service: string
  aggregate: string
  eventType: string
}): string {
  const segments = [parts.service, parts.aggregate, parts.eventType]
  const names = ['service', 'aggregate', 'eventType']
  if (parts.prefix !== undefined && parts.prefix !== '') {
    segments.unshift(parts.prefix)
    names.unshift('prefix')
  }
  segments.forEach((segment, i) => {
    if (typeof segment !== 'string' || !SEGMENT.test(segment)) {
      throw new ConfigurationError(
        `Topic segment ${names[i]} must be 1-100 letters, digits, "_" or "-", got ${JSON.stringify(segment)}`,
        { field: names[i]! },
      )
    }
  })
  return segments.join('.')
}
