import { useEffect, useState } from 'preact/hooks'
import { bearerProtocols, wsUrl } from './api.ts'

/** A consumer group as `/ws/monitoring` frames carry it. */
export interface GroupFigures {
  group: string
  lag: number | null
  pending: number | null
  oldest_unsettled_age_ms: number | null
  dead_lettered: number | null
}

/** A stream's metrics as the frames carry them (or the refusal of them). */
export interface StreamFigures {
  stream: string
  published_total?: number
  publish_rate_per_second?: number
  retained_count?: number
  retained_count_complete?: boolean
  dead_letter_topic?: string
  dead_letter_depth?: number
  consumer_groups?: GroupFigures[] | null
  unavailable?: string[]
  error?: { status: number; detail: string }
}

/** One point of a stream's history: its publish rate and each group's lag at a time. */
export interface Point {
  t: number
  rate: number
  retained: number
  lag: Record<string, number>
}

/** What the console knows from the monitoring connection. */
export interface LiveState {
  connected: boolean
  closed: string | undefined
  at: number
  streams: StreamFigures[]
  history: Record<string, Point[]>
}

/** Points kept per stream: five minutes at one frame a second. */
const KEEP = 300

let state: LiveState = { connected: false, closed: undefined, at: 0, streams: [], history: {} }
const listeners = new Set<(s: LiveState) => void>()
let socket: WebSocket | undefined
let onUnauthorized: (() => void) | undefined

function publish(next: LiveState): void {
  state = next
  for (const listener of listeners) listener(state)
}

function absorb(frame: { streams?: StreamFigures[] }): void {
  const now = Date.now()
  const streams = frame.streams ?? []
  const history = { ...state.history }
  for (const s of streams) {
    if (s.error !== undefined) continue
    const points = history[s.stream] ?? []
    const last = points.at(-1)
    const total = s.published_total ?? 0
    const seconds = last === undefined ? 0 : (now - last.t) / 1000
    // Events published since the previous frame, per second: moves within a second of a burst,
    // where the API's per-minute average takes a minute to settle.
    const previous = (last as (Point & { total?: number }) | undefined)?.total
    const rate =
      previous === undefined || seconds <= 0 ? 0 : Math.max(0, total - previous) / seconds
    const lag: Record<string, number> = {}
    for (const g of s.consumer_groups ?? []) if (g.lag !== null) lag[g.group] = g.lag
    const point = { t: now, rate, retained: s.retained_count ?? 0, lag, total }
    history[s.stream] = [...points.slice(-(KEEP - 1)), point]
  }
  publish({ ...state, connected: true, at: now, streams, history })
}

/** Opens `/ws/monitoring` with the token (once); `unauthorized` runs when the token is refused. */
export function startMonitoring(token: string, unauthorized: () => void): void {
  onUnauthorized = unauthorized
  if (socket !== undefined) return
  const ws = new WebSocket(wsUrl('/ws/monitoring'), bearerProtocols(token))
  socket = ws
  ws.onmessage = (message) => {
    try {
      absorb(JSON.parse(String(message.data)) as { streams?: StreamFigures[] })
    } catch {
      // A frame that is not JSON carries nothing to show.
    }
  }
  ws.onclose = (event) => {
    if (socket === ws) socket = undefined
    const reason = event.code === 4401 ? 'the token was refused' : event.reason || 'closed'
    publish({ ...state, connected: false, closed: reason })
    if (event.code === 4401) onUnauthorized?.()
    else if (listeners.size > 0)
      setTimeout(() => socket ?? startMonitoring(token, unauthorized), 2000)
  }
}

/** Closes the monitoring connection and forgets what it showed (at logout). */
export function stopMonitoring(): void {
  const ws = socket
  socket = undefined
  ws?.close()
  publish({ connected: false, closed: undefined, at: 0, streams: [], history: {} })
}

/** The live state, re-rendered on every frame. */
export function useLive(): LiveState {
  const [current, set] = useState(state)
  useEffect(() => {
    listeners.add(set)
    set(state)
    return () => void listeners.delete(set)
  }, [])
  return current
}
