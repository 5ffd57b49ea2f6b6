import { ClosedError, ConnectionError, PublishError } from '@switchyard/core/transport'

/** What publishes, subscribes and acks throw while fault injection keeps the transport disconnected. */
export function disconnectedError(): ConnectionError {
  return new ConnectionError('memory transport is disconnected (fault injection)')
}

/** What `faults.failNextPublishes()` throws unless given an error of its own: retryable. */
export function injectedPublishError(topic: string): PublishError {
  return new PublishError(`Injected publish failure on "${topic}"`, { topic, retryable: true })
}

/** A publish that waited `publishTimeoutMs` for a group to catch up: not retried by the bus. */
export function queueFullError(
  topic: string,
  maxQueueSize: number,
  waitedMs: number,
): PublishError {
  return new PublishError(
    `Topic "${topic}" has a group ${maxQueueSize} events behind (maxQueueSize); gave up after ${waitedMs} ms`,
    { topic },
  )
}

/** What publish and subscribe throw after `close()`. */
export function closedError(): ClosedError {
  return new ClosedError('memory transport is closed')
}
