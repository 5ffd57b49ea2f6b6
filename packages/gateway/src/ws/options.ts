import { hostname } from 'node:os'

/** Settings of the WebSocket routes (`/ws/events/{stream}`, `/ws/monitoring`). */
export interface LiveOptions {
  /**
   * Most bytes waiting to be written to one client before it is disconnected as too slow (close
   * code 4008). @default 1048576
   */
  maxBufferedBytes?: number
  /** Most frames waiting to be written to one client before it is disconnected (4008). @default 1000 */
  maxBufferedMessages?: number
  /**
   * How long a client disconnected for being slow (or at shutdown) has to read what was already
   * queued and the close frame before its connection is cut. @default 5000
   */
  closeGraceMs?: number
  /** Most retained events read to serve a resume (`after_id`, `from_sequence`, `from_time`). @default 10000 */
  resumeMax?: number
  /** Interval of `/ws/monitoring` frames, in milliseconds. @default 1000 */
  monitoringIntervalMs?: number
  /**
   * Consumer group this gateway process reads live events with: one subscription per watched
   * stream, fanned out to every connection in process, so WebSocket clients never take events
   * from other groups. Give each replica a stable, distinct name (a StatefulSet pod name).
   * @default `switchyard-gateway-ws-${hostname}-${pid}`
   */
  group?: string
}

/** `LiveOptions` with defaults applied. */
export type ResolvedLiveOptions = Required<LiveOptions>

function positive(value: number | undefined, fallback: number, name: string): number {
  const n = value ?? fallback
  if (!Number.isFinite(n) || n <= 0) throw new Error(`live.${name} must be a positive number`)
  return n
}

/**
 * Applies the defaults.
 * @throws {Error} for a number that is not positive.
 */
export function resolveLiveOptions(options: LiveOptions = {}): ResolvedLiveOptions {
  return {
    maxBufferedBytes: positive(options.maxBufferedBytes, 1_048_576, 'maxBufferedBytes'),
    maxBufferedMessages: positive(options.maxBufferedMessages, 1_000, 'maxBufferedMessages'),
    closeGraceMs: positive(options.closeGraceMs, 5_000, 'closeGraceMs'),
    resumeMax: positive(options.resumeMax, 10_000, 'resumeMax'),
    monitoringIntervalMs: positive(options.monitoringIntervalMs, 1_000, 'monitoringIntervalMs'),
    group: options.group ?? `switchyard-gateway-ws-${hostname()}-${process.pid}`,
  }
}

/** Close codes the gateway sends (4000-4999 is the application range of RFC 6455). */
export const CLOSE = {
  /** The client did not read fast enough: its buffer overflowed. */
  slowConsumer: 4008,
  /** The token expired (or was refused) during a monitoring connection. */
  unauthorized: 4401,
  /** `after_id` is not among the retained events. */
  resumeNotFound: 4404,
  /** The stream subscription failed at the broker. */
  brokerError: 4503,
  /** The gateway is shutting down. */
  goingAway: 1001,
} as const
