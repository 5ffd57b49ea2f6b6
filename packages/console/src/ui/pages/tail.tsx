import { useEffect, useRef, useState } from 'preact/hooks'
import { ApiError, api, bearerProtocols, wsUrl } from '../api.ts'
import { type PageProps, Problem, StreamPicker, setQuery, useStreams } from './common.tsx'

interface LiveEvent {
  id: string
  type: string
  time?: string
  subject?: string
  tenantid?: string
  data?: unknown
}

/** Lines kept on screen. */
const KEEP = 200

function excerpt(data: unknown): string {
  const text = typeof data === 'string' ? data : JSON.stringify(data ?? null)
  return text.length > 120 ? `${text.slice(0, 119)}…` : text
}

/** The live events of a stream over `/ws/events/{stream}`, filtered by type and text. */
export function TailPage({ token, query }: PageProps) {
  const streams = useStreams(token)
  const stream = query.get('stream') ?? ''
  const types = query.get('types') ?? ''
  const earliest = query.get('from') === 'earliest'
  const [text, setText] = useState('')
  const [events, setEvents] = useState<LiveEvent[]>([])
  const [state, setState] = useState('')
  const [error, setError] = useState<unknown>()
  const socket = useRef<WebSocket | undefined>(undefined)
  useEffect(() => {
    setEvents([])
    setError(undefined)
    if (stream === '') return
    let stopped = false
    // The REST route answers a refusal in words; a refused WebSocket upgrade only closes.
    api(token, `/api/v1/streams/${encodeURIComponent(stream)}`).then(
      () => {
        if (stopped) return
        const params = new URLSearchParams()
        if (types !== '') params.set('types', types)
        if (earliest) params.set('from', 'earliest')
        const ws = new WebSocket(
          wsUrl(`/ws/events/${encodeURIComponent(stream)}?${params.toString()}`),
          bearerProtocols(token),
        )
        socket.current = ws
        setState('connecting…')
        ws.onmessage = (message) => {
          const frame = JSON.parse(String(message.data)) as { type: string; event?: LiveEvent }
          if (frame.type === 'subscribed') setState('live')
          if (frame.type === 'event' && frame.event !== undefined) {
            const event = frame.event
            setEvents((list) => [event, ...list].slice(0, KEEP))
          }
        }
        ws.onclose = (event) => {
          if (!stopped) setState(`closed${event.reason ? `: ${event.reason}` : ` (${event.code})`}`)
        }
      },
      (e: unknown) => !stopped && setError(e instanceof ApiError ? e : new Error(String(e))),
    )
    return () => {
      stopped = true
      socket.current?.close()
      socket.current = undefined
    }
  }, [token, stream, types, earliest])
  const update = (changes: Record<string, string>) =>
    setQuery('tail', { stream, types, from: earliest ? 'earliest' : '', ...changes })
  const shown = text === '' ? events : events.filter((e) => JSON.stringify(e).includes(text))
  return (
    <section>
      <h2>Live tail</h2>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <StreamPicker streams={streams} value={stream} onChange={(s) => update({ stream: s })} />
        <label>
          Types{' '}
          <input
            name="types"
            value={types}
            placeholder="order.*,user.created"
            onChange={(e) => update({ types: (e.target as HTMLInputElement).value })}
          />
        </label>
        <label>
          <input
            type="checkbox"
            checked={earliest}
            onChange={(e) =>
              update({ from: (e.target as HTMLInputElement).checked ? 'earliest' : '' })
            }
          />{' '}
          from the earliest retained
        </label>
        <label>
          Contains{' '}
          <input
            name="text"
            value={text}
            onInput={(e) => setText((e.target as HTMLInputElement).value)}
          />
        </label>
      </form>
      <Problem error={error} />
      {stream !== '' && error === undefined && <p class="live">{state}</p>}
      <table class="grid tail" aria-label="Events">
        <thead>
          <tr>
            <th>Time</th>
            <th>Type</th>
            <th>Subject</th>
            <th>Tenant</th>
            <th>Id</th>
            <th>Data</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((e) => (
            <tr key={e.id} data-event={e.id}>
              <td>{e.time === undefined ? '' : new Date(e.time).toLocaleTimeString()}</td>
              <td>{e.type}</td>
              <td>{e.subject ?? ''}</td>
              <td>{e.tenantid ?? ''}</td>
              <td class="mono">{e.id}</td>
              <td class="mono">{excerpt(e.data)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}
