/** The environment variable that hands a consumer process its `ConsumerSpec`, as JSON. */
export const CONSUMER_SPEC_ENV = 'SWITCHYARD_CONSUMER'

/** What the killed-consumer scenario asks of a consumer process. */
export interface ConsumerSpec {
  /** Topic to subscribe to. */
  topic: string
  /** Consumer group; the scenario's surviving member is in the same one. */
  group: string
  /** Events the process handles to the end; every later handler hangs until the process dies. */
  finishFirst: number
  /** Handlers running at once. */
  concurrency: number
  /** Messages held at most. */
  prefetch: number
  /** The subscription's delivery mode. @default 'at-least-once' */
  delivery?: 'at-least-once' | 'at-most-once'
}
