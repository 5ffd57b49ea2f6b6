import type { EventEnvelope, EventInput } from '@switchyard/core'
import type { StreamOutput } from './operator.js'

/** What `forEach` receives, and what `to` turns into an event. */
export interface StreamResult<R> {
  /** Deterministic id: the same input gives the same id after a restart (dedup on it). */
  readonly id: string
  /** `window`, `join`, `followed`, `absent`, `threshold` or `event` (no stateful step). */
  readonly kind: string
  /** The stream key. */
  readonly key: string
  /** Event time of the result, ms since the epoch (a window's last millisecond). */
  readonly time: number
  /** Window start (inclusive), ms since the epoch, for windowed results and join pairs. */
  readonly start?: number
  /** Window end (exclusive), ms since the epoch. */
  readonly end?: number
  /** False for an early update of a window still open (`emit: 'early'`). */
  readonly final: boolean
  /** The aggregate, pair or match. */
  readonly value: R
}

/** A `StreamOutput` as the public result shape. */
export function toResult<R>(output: StreamOutput, value: R): StreamResult<R> {
  const result: {
    -readonly [K in keyof StreamResult<R>]: StreamResult<R>[K]
  } = {
    id: output.id,
    kind: output.kind,
    key: output.key,
    time: output.time,
    final: output.final,
    value,
  }
  if (output.start !== undefined) result.start = output.start
  if (output.end !== undefined) result.end = output.end
  return result
}

const iso = (ms: number) => new Date(ms).toISOString()

/**
 * The CloudEvent of a result: the result's id, its event time, the key as partition key (so
 * results of a key stay in order downstream) and the stream name, key, window bounds and
 * finality as extension attributes.
 */
export function resultEvent(
  stream: string,
  result: StreamResult<unknown>,
  type: string | undefined,
): EventInput {
  const extensions: Record<string, string> = {
    streamname: stream,
    streamkey: result.key,
    windowfinal: String(result.final),
  }
  if (result.start !== undefined) extensions.windowstart = iso(result.start)
  if (result.end !== undefined) extensions.windowend = iso(result.end)
  const event: EventInput = {
    id: result.id,
    type: type ?? `switchyard.stream.${result.kind}${result.final ? '' : '.update'}`,
    time: iso(result.time),
    data: result.value,
    extensions,
  }
  if (result.key !== '') event.partitionkey = result.key
  return event
}

/** A late event as re-published to the late-events topic: same id, marked with the stream. */
export function lateEvent(stream: string, event: EventEnvelope, watermark: number): EventEnvelope {
  return {
    ...event,
    extensions: { ...event.extensions, streamname: stream, streamwatermark: iso(watermark) },
  }
}
